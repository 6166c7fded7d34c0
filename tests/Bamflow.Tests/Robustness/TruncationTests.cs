using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// A real file cut at hundreds of offsets (every BGZF block boundary ±1, inside the header block, inside records,
/// every byte of the EOF block): every way of reading it ends in a typed error naming the file and an offset inside
/// it, or — where only whole blocks holding whole records remain — in success with the EOF warning and exactly the
/// records samtools reads from the same cut file. All ways agree, and none hangs.
/// </summary>
public sealed class TruncationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-truncation-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Files =>
    [
        "fixture:sample.bam",
        .. SharedData.WhenPresent(
        [
            "samtools__ce_large_seq.bam",   // records larger than 64 KiB, straddling blocks
            "htslib__bgzf_boundaries3.bam", // records cut at every kind of block boundary
        ]),
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Cut_AtManyOffsets_TypedErrorOrSamtoolsRecordsAndAllWaysAgree(string name)
    {
        string source = name.StartsWith("fixture:", StringComparison.Ordinal) ? Conversion.Fixture(name["fixture:".Length..]) : SharedData.CorpusPath(name);
        byte[] file = File.ReadAllBytes(source);
        List<long> blocks = BlockOffsets(file);
        SortedSet<int> cuts = CutPoints(file, blocks);
        Assert.True(cuts.Count >= (name.Contains("sample", StringComparison.Ordinal) ? 60 : 100), $"{name}: only {cuts.Count} cut points");

        int successes = 0, failures = 0;
        foreach (int cut in cuts)
        {
            string path = Path.Combine(_dir, $"cut-{cut}.bam");
            await File.WriteAllBytesAsync(path, file.AsMemory(0, cut), TestContext.Current.CancellationToken);
            string context = $"{name} cut at {cut} of {file.Length}";
            EngineRuns.Outcome[] outcomes = await EngineRuns.AllAsync(path);

            // Every way agrees: same success and record count, or same exception type, error and place.
            for (int i = 1; i < outcomes.Length; i++)
            {
                Assert.True(outcomes[0].Key == outcomes[i].Key, $"{context}: {EngineRuns.Names[0]} gave [{outcomes[0].Key}] but {EngineRuns.Names[i]} gave [{outcomes[i].Key}]");
            }

            (int samtoolsExit, long samtoolsCount) = SamtoolsCount(path);
            if (outcomes[0].Error is null)
            {
                successes++;
                Assert.True(samtoolsExit == 0, $"{context}: we read {outcomes[0].Records} records but samtools failed");
                Assert.Equal(samtoolsCount, outcomes[0].Records);
                bool wholeFile = cut == file.Length;
                foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names))
                {
                    Assert.True(outcome.MissingEofMarker == !wholeFile, $"{context} ({way}): MissingEofMarker {outcome.MissingEofMarker}");
                    Assert.True(outcome.EofWarnings == (wholeFile ? 0 : 1), $"{context} ({way}): {outcome.EofWarnings} EOF-marker warnings");
                }

                // Only whole blocks remain.
                Assert.Contains(cut, blocks.Select(b => (int)b));
                Assert.Equal(outcomes[1].Ipc, outcomes[2].Ipc);
                Assert.Equal(outcomes[1].Ipc, outcomes[3].Ipc);
            }
            else
            {
                failures++;
                Assert.True(samtoolsExit != 0, $"{context}: samtools read {samtoolsCount} records but we failed with {outcomes[0].Error}");
                foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names))
                {
                    outcome.AssertTypedError(path, cut, $"{context} ({way})");
                }
            }

            File.Delete(path);
        }

        Assert.True(successes >= 2, $"{name}: only {successes} cuts left whole records");
        Assert.True(failures >= cuts.Count / 2, $"{name}: only {failures} cuts failed");
    }

    /// <summary>The compressed offset of every BGZF block, and the file's length.</summary>
    internal static List<long> BlockOffsets(byte[] file)
    {
        var offsets = new List<long>();
        int offset = 0;
        while (offset < file.Length)
        {
            offsets.Add(offset);
            offset += BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(offset + 16)) + 1; // BSIZE + 1 (XLEN 6: BC first)
        }

        Assert.Equal(file.Length, offset);
        offsets.Add(file.Length);
        return offsets;
    }

    /// <summary>
    /// Deterministic cut points: every block boundary and ±1; 0 to 20 and the middle of the header block; the
    /// quarter points of every block (inside records); every byte of the EOF block; 20 seeded random offsets.
    /// </summary>
    internal static SortedSet<int> CutPoints(byte[] file, List<long> blocks)
    {
        var cuts = new SortedSet<int>();
        foreach (int b in blocks.Select(b => (int)b))
        {
            cuts.Add(b - 1);
            cuts.Add(b);
            cuts.Add(b + 1);
        }

        for (int i = 0; i <= 20; i++)
        {
            cuts.Add(i); // inside the first block's gzip header (ID, FLG, XLEN, BC subfield) and its data
        }

        for (int i = 0; i + 1 < blocks.Count; i++)
        {
            long length = blocks[i + 1] - blocks[i];
            cuts.Add((int)(blocks[i] + (length / 4)));
            cuts.Add((int)(blocks[i] + (length / 2)));
            cuts.Add((int)(blocks[i] + (3 * length / 4)));
        }

        for (int i = file.Length - 28; i < file.Length; i++)
        {
            cuts.Add(i); // inside the EOF marker block
        }

        var random = new Random(20261125);
        for (int i = 0; i < 20; i++)
        {
            cuts.Add(random.Next(file.Length));
        }

        cuts.RemoveWhere(c => c < 0 || c > file.Length);
        return cuts;
    }

    /// <summary><c>samtools view -c</c>: its exit code and the count it printed.</summary>
    private static (int ExitCode, long Count) SamtoolsCount(string path)
    {
        (int code, byte[] stdout, _) = Samtools.Run(null, "view", "-c", path);
        string text = Encoding.ASCII.GetString(stdout).Trim();
        return (code, long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long count) ? count : -1);
    }
}
