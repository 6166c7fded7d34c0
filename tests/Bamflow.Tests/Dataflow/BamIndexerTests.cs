using System.Text.RegularExpressions;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>
/// <see cref="BamIndexer"/> against the oracle, samtools index 1.16: the same BAI bytes, the same CSI once inflated, at
/// 1, 2 and 3 threads; and samtools' refusals, as typed errors.
/// </summary>
public sealed partial class BamIndexerTests : IDisposable
{
    private const string BenchBam = "/tmp/bench-data/bench-2000000.bam";
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-indexer-").FullName;

    public static TheoryData<string, string> FixtureCases => new()
    {
        { "sorted.bam", "" }, { "sorted.bam", "-c" }, { "sorted.bam", "-m 12" }, { "sorted.bam", "-m 16" },
        { "sorted-level0.bam", "" }, { "sorted-level0.bam", "-c" }, { "sorted-level0.bam", "-m 12" },
        { "sorted-straddling.bam", "" }, { "sorted-straddling.bam", "-c" }, { "sorted-straddling.bam", "-m 16" },
        { "long.bam", "-c" }, { "long.bam", "-m 12" }, { "long.bam", "-m 16" },
    };

    public static TheoryData<string> GoodFiles => [.. SharedData.CorpusFiles(bad: false)];

    public static TheoryData<string> BadFiles => [.. SharedData.CorpusFiles(bad: true)];

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public async Task BuildAsync_Fixture_SameIndexAsSamtoolsAtEveryThreadCount(string fixture, string mode)
    {
        string path = Conversion.Fixture(Path.Combine("index", fixture));
        byte[] expected = SamtoolsIndex(path, mode) ?? throw new InvalidOperationException($"samtools index {mode} refused {fixture}");
        foreach (int threads in new[] { 1, 2, 3 })
        {
            byte[] actual = await Index(path, mode, threads);
            AssertSameIndex(expected, actual, $"{fixture} {mode} @ threads={threads}");
        }
    }

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    [MemberData(nameof(BadFiles))]
    public async Task BuildAsync_CorpusFile_SameIndexAsSamtoolsOrSameRefusal(string name)
    {
        string path = SharedData.CorpusPath(name);
        foreach (string mode in new[] { "", "-c", "-m 12", "-m 16" })
        {
            (byte[]? expected, string verdict) = SamtoolsIndexOrVerdict(path, mode);
            foreach (int threads in new[] { 1, 2 })
            {
                if (expected is not null)
                {
                    AssertSameIndex(expected, await Index(path, mode, threads), $"{name} {mode} @ threads={threads}");
                }
                else
                {
                    // samtools refused: bamflow refuses with its verdict (an index error), or the file is not a BAM it reads.
                    Exception error = await Assert.ThrowsAnyAsync<Exception>(() => Index(path, mode, threads));
                    if (error is BamIndexBuildException refusal)
                    {
                        Assert.True(verdict.Contains(refusal.Verdict, StringComparison.Ordinal), $"{name} {mode}: samtools said '{verdict}', bamflow '{refusal.Verdict}'");
                    }
                    else
                    {
                        Assert.IsAssignableFrom<BamFormatException>(error);
                    }
                }
            }
        }
    }

    [Fact]
    public async Task BuildAsync_BenchmarkBam_SameBaiAsSamtools()
    {
        if (!File.Exists(BenchBam))
        {
            Assert.Skip($"{BenchBam} is absent (make it with ../shared/bench/make-bench-bam.sh /tmp/bench-data 1000000)");
        }

        AssertSameIndex(SamtoolsIndex(BenchBam, "")!, await Index(BenchBam, "", 2), "benchmark BAM, BAI");
        AssertSameIndex(SamtoolsIndex(BenchBam, "-c")!, await Index(BenchBam, "-c", 2), "benchmark BAM, CSI");
    }

    [Theory]
    [InlineData("unsorted.bam", "", BamIndexBuildError.UnsortedPositions, 1, 0)]
    [InlineData("unplaced-first.bam", "", BamIndexBuildError.PlacedAfterUnplaced, 1, 0)]
    [InlineData("split-reference.bam", "-c", BamIndexBuildError.ReferencesNotContiguous, 2, 0)]
    [InlineData("long.bam", "", BamIndexBuildError.PositionOutOfRange, 3, 1)]
    public async Task BuildAsync_UnindexableFixture_SamtoolsVerdictAndRecord(string fixture, string mode, BamIndexBuildError error, long recordIndex, int referenceId)
    {
        string path = Conversion.Fixture(Path.Combine("index", fixture));
        (byte[]? expected, string verdict) = SamtoolsIndexOrVerdict(path, mode);
        Assert.Null(expected);

        var refusal = await Assert.ThrowsAsync<BamIndexBuildException>(() => Index(path, mode, 2));
        Assert.Equal(error, refusal.Error);
        Assert.Equal(recordIndex, refusal.RecordIndex);
        Assert.Equal(referenceId, refusal.ReferenceId);
        Assert.Equal(path, refusal.FileName);
        Assert.Equal(refusal.Position.CompressedOffset, refusal.CompressedOffset);
        Assert.Contains(refusal.Verdict, verdict, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("index/sorted.bam")]
    [InlineData("index/long.bam")]
    [InlineData("edge-cases.bam")]
    [InlineData("sample.bam")]
    public void TryReadPlacement_EveryRecord_AgreesWithBamRecord(string fixture)
    {
        using BamReader reader = BamReader.Open(Conversion.Fixture(fixture));
        int references = reader.Header.References.Count, read = 0;
        while (reader.TryReadBytes(out ReadOnlySpan<byte> bytes))
        {
            Assert.Equal(BamRecordError.None, BamRecord.TryCreate(bytes, references, out BamRecord record));
            if (BamIndexBuilder.TryReadPlacement(bytes, references, out int referenceId, out long begin, out long end, out bool mapped))
            {
                read++;
                Assert.Equal(record.ReferenceId, referenceId);
                Assert.Equal(record.Position, begin);
                Assert.Equal(record.EndPosition, end);
                Assert.Equal((record.Flag & 4) == 0, mapped);
            }
        }

        Assert.True(read > 0, "no record took the fast path");
    }

    [Fact]
    public void BgzfWriter_Data_InflatesBackWithEofMarker()
    {
        var data = new byte[200_000];
        new Random(17).NextBytes(data.AsSpan(0, 100_000)); // incompressible, then zeros
        var output = new MemoryStream();
        using (var writer = new BgzfWriter(output, leaveOpen: true))
        {
            writer.Write(data.AsSpan(0, 1000));
            writer.Write(data.AsSpan(1000));
        }

        byte[] file = output.ToArray();
        Assert.Equal(data, LargeBam.Inflate(file));
        Assert.True(file.AsSpan()[^28..].SequenceEqual(BgzfWriter.EofMarker));
        string path = Path.Combine(_dir, "w.gz");
        File.WriteAllBytes(path, file);
        BamflowCli.Result check = BamflowCli.RunProgram("bgzip", "-t", path);
        Assert.True(check.ExitCode == 0, check.Stderr);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>bamflow's index of <paramref name="path"/> (mode as samtools': "", "-c", "-m N"), inflated if CSI.</summary>
    private static async Task<byte[]> Index(string path, string mode, int threads)
    {
        BamIndexFormat format = mode.Length == 0 ? BamIndexFormat.Bai : BamIndexFormat.Csi;
        int minShift = mode.StartsWith("-m ", StringComparison.Ordinal) ? int.Parse(mode[3..], System.Globalization.CultureInfo.InvariantCulture) : 14;
        using BamReader reader = BamReader.Open(path);
        BamIndexBuilder builder = await new BamIndexer(new PipelineOptions { Threads = threads }).BuildAsync(reader, format, minShift);
        var output = new MemoryStream();
        if (format == BamIndexFormat.Csi)
        {
            builder.WriteCsi(output);
            return LargeBam.Inflate(output.ToArray());
        }

        builder.WriteBai(output);
        return output.ToArray();
    }

    private byte[]? SamtoolsIndex(string path, string mode) => SamtoolsIndexOrVerdict(path, mode).Index;

    /// <summary>samtools index's index (inflated if CSI), or null and its error text (the [E::hts_idx_…] message).</summary>
    private (byte[]? Index, string Verdict) SamtoolsIndexOrVerdict(string path, string mode)
    {
        string output = Path.Combine(_dir, "samtools.idx");
        File.Delete(output);
        string[] arguments = ["index", .. mode.Split(' ', StringSplitOptions.RemoveEmptyEntries), path, output];
        (int code, _, string error) = Samtools.Run(null, arguments);
        if (code != 0)
        {
            return (null, error);
        }

        byte[] bytes = File.ReadAllBytes(output);
        return (mode.Length == 0 ? bytes : LargeBam.Inflate(bytes), "");
    }

    private static void AssertSameIndex(byte[] expected, byte[] actual, string what)
    {
        int at = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(at == expected.Length && at == actual.Length,
            $"{what}: differs at byte {at} (samtools {expected.Length} bytes, bamflow {actual.Length})");
    }
}
