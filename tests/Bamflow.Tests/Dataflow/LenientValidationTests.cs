using System.Buffers.Binary;
using System.IO.Compression;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>
/// Lenient validation: invalid records whose framing is intact are skipped, counted and warned about, and every
/// other record comes through; strict validation stops at the first one. Damage to the framing stops both.
/// </summary>
public sealed class LenientValidationTests : IDisposable
{
    // Three records of the sample, each made invalid in a different field; their framing (block_size) is intact.
    private static readonly int[] s_broken = [10, 500, 1500];

    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-lenient-").FullName;
    private readonly string _path;

    public LenientValidationTests()
    {
        byte[] bam = Inflate(File.ReadAllBytes(Conversion.Fixture("sample.bam")));
        List<int> records = RecordOffsets(bam);
        BinaryPrimitives.WriteInt32LittleEndian(bam.AsSpan(records[s_broken[0]] + 4), 99);   // refID beyond the header
        bam[records[s_broken[1]] + 4 + 8] = 0;                                                 // l_read_name 0
        int record = records[s_broken[2]];
        int blockSize = BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan(record));
        bam[record + 4 + blockSize - 6] = (byte)'X';   // the last tag, RG:Z:demo (stored "RGZdemo\0"), gets an unknown type
        _path = Path.Combine(_dir, "broken.bam");
        File.WriteAllBytes(_path, BgzfTestWriter.Compress(bam));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    public void Lenient_InvalidRecords_AreSkippedAndEveryOtherRecordKept(bool sequential, int threads)
    {
        List<ArrowSam.Line> original = ArrowSam.SamtoolsLines(Conversion.Fixture("sample.bam"));
        List<ArrowSam.Line> expected = [.. original.Where((_, i) => !s_broken.Contains(i))];

        var engine = new BamArrowPipeline(new() { BatchSize = 300 }, new() { Sequential = sequential, Threads = threads, Validation = ValidationMode.Lenient });
        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(_path, engine);

        ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false)).ToList(), $"lenient, sequential={sequential}, threads={threads}");
        Assert.Equal(3, summary.RecordsSkipped);
        Assert.Equal(original.Count, summary.RecordsRead);
        Assert.Equal(original.Count - 3, summary.Records);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Strict_FirstInvalidRecord_StopsTheRunNamingIt(bool sequential)
    {
        var engine = new BamArrowPipeline(new() { BatchSize = 300 }, new() { Sequential = sequential, Threads = 2 });

        var error = Assert.Throws<BamRecordFormatException>(() => Conversion.ToIpc(_path, engine));

        Assert.Equal(s_broken[0], error.RecordIndex);
        Assert.Equal(BamRecordError.ReferenceId, error.Error);
        Assert.Equal(_path, error.FileName);
    }

    [Fact]
    public void Cli_Lenient_WarnsForEachSkippedRecordAndExitsZero_StrictExitsOne()
    {
        string output = Path.Combine(_dir, "out.arrow");

        var lenient = BamflowCli.Run("convert", _path, "-o", output, "--validation", "lenient");
        var strict = BamflowCli.Run("convert", _path, "-o", Path.Combine(_dir, "strict.arrow"), "--quiet");

        Assert.True(lenient.ExitCode == 0, lenient.Stderr);
        Assert.Equal(3, lenient.Stderr.Split('\n').Count(l => l.Contains("skipped an invalid record", StringComparison.Ordinal)));
        Assert.Contains("(of 2,023 read: 3 invalid skipped)", lenient.Stderr, StringComparison.Ordinal);
        Assert.Equal(2020, ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false).Sum(b => b.Length));
        Assert.Equal(1, strict.ExitCode);
        Assert.Contains("in record 11 ", strict.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "strict.arrow")));
    }

    [Fact]
    public void Lenient_BrokenFraming_StillStopsTheRun()
    {
        // A block_size of 4 loses the framing: nothing after it can be found, so lenient mode cannot go on either.
        byte[] bam = Inflate(File.ReadAllBytes(Conversion.Fixture("sample.bam")));
        BinaryPrimitives.WriteInt32LittleEndian(bam.AsSpan(RecordOffsets(bam)[7]), 4);
        string path = Path.Combine(_dir, "framing.bam");
        File.WriteAllBytes(path, BgzfTestWriter.Compress(bam));
        var engine = new BamArrowPipeline(null, new() { Validation = ValidationMode.Lenient });

        var error = Assert.Throws<BamRecordFormatException>(() => Conversion.ToIpc(path, engine));

        Assert.Equal(BamRecordError.BlockSizeTooSmall, error.Error);
        Assert.Equal(7, error.RecordIndex);
    }

    private static byte[] Inflate(byte[] bgzf)
    {
        using var gzip = new GZipStream(new MemoryStream(bgzf), CompressionMode.Decompress);
        var inflated = new MemoryStream();
        gzip.CopyTo(inflated);
        return inflated.ToArray();
    }

    /// <summary>Where each record's block_size starts in inflated BAM bytes.</summary>
    private static List<int> RecordOffsets(byte[] bam)
    {
        int p = 4;
        p += 4 + BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan(p));                // l_text, text
        int references = BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan(p));
        p += 4;
        for (int i = 0; i < references; i++)
        {
            p += 4 + BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan(p)) + 4;       // l_name, name, l_ref
        }

        var offsets = new List<int>();
        while (p < bam.Length)
        {
            offsets.Add(p);
            p += 4 + BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan(p));
        }

        return offsets;
    }
}
