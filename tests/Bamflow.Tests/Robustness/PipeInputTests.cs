using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// Input from a pipe (standard input): a stream that cannot seek and returns a few bytes or a few blocks per read, so the
/// parallel engine's large reads end anywhere inside a block. The engine gives the same output as from the file, and
/// on a cut file the same error at the same place as <see cref="BamReader"/> reading the file block by block.
/// </summary>
public sealed class PipeInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-pipe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Files =>
    [
        "fixture:sample.bam",
        "fixture:edge-cases.bam",
        .. SharedData.WhenPresent(
        [
            "samtools__ce_large_seq.bam",   // records larger than 64 KiB, straddling blocks
            "htslib__bgzf_boundaries3.bam", // records cut at every kind of block boundary
        ]),
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Convert_PipeLikeInput_SameOutputAsFromTheFile(string name)
    {
        string path = Source(name);
        byte[] file = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        EngineRuns.Outcome fromFile = await EngineRuns.ConvertAsync(path, new PipelineOptions { Threads = 3 });
        Assert.Null(fromFile.Error);
        foreach (int threads in new[] { 1, 3 })
        {
            foreach (int maxRead in new[] { 100, 65536, 1 << 20 })
            {
                string context = $"{name} @ threads={threads}, reads of 1-{maxRead} bytes";
                EngineRuns.Outcome outcome = await EngineRuns.ConvertAsync(context,
                    (log, inflater) => new BamReader(new TrickleStream(file, maxRead, seed: maxRead + threads), path, log, inflater), new PipelineOptions { Threads = threads });

                Assert.True(fromFile.Key == outcome.Key, $"{context}: [{outcome.Key}], from the file [{fromFile.Key}]");
                Assert.True(fromFile.Ipc.AsSpan().SequenceEqual(outcome.Ipc), $"{context}: the Arrow output differs from the file's");
            }
        }
    }

    [Fact]
    public async Task Convert_CutFileFromAPipe_SameErrorAsTheBlockReader()
    {
        byte[] file = await File.ReadAllBytesAsync(Conversion.Fixture("sample.bam"), TestContext.Current.CancellationToken);
        List<long> blocks = TruncationTests.BlockOffsets(file);
        var cuts = new SortedSet<int>();
        for (int b = 1; b < blocks.Count; b++)
        {
            int start = (int)blocks[b - 1], end = (int)blocks[b];
            cuts.UnionWith([start + 1, start + 11, start + 12, start + 17, start + 18, (start + end) / 2, end - 1, end]);
        }

        foreach (int cut in cuts)
        {
            string path = Path.Combine(_dir, $"cut-{cut}.bam");
            await File.WriteAllBytesAsync(path, file.AsMemory(0, cut), TestContext.Current.CancellationToken);
            EngineRuns.Outcome expected = await EngineRuns.ReadAsync(path);
            foreach (int threads in new[] { 1, 3 })
            {
                string context = $"sample.bam cut at {cut} of {file.Length} @ threads={threads}";
                byte[] input = file[..cut];
                EngineRuns.Outcome outcome = await EngineRuns.ConvertAsync(context,
                    (log, inflater) => new BamReader(new TrickleStream(input, 20_000, seed: cut), "-", log, inflater), new PipelineOptions { Threads = threads });

                Assert.True(expected.Key == outcome.Key, $"{context}: [{outcome.Key}], the block reader gave [{expected.Key}]");
            }
        }
    }

    private static string Source(string name) =>
        name.StartsWith("fixture:", StringComparison.Ordinal) ? Conversion.Fixture(name["fixture:".Length..]) : SharedData.CorpusPath(name);
}
