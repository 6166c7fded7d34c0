using System.Threading.Tasks.Dataflow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Tests.Shards;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>
/// The engine reading ranges of virtual positions (what region queries and shards give it), against the sequential
/// <see cref="BamReader"/> as the oracle: passes of ranges between record starts it reports, in any order (seeking back),
/// overlapping, starting and ending inside BGZF blocks, with and without a selection, give exactly those records'
/// bytes, in the order of the passes and ranges, at 1, 2 and 3 threads and with segments far smaller than a block.
/// </summary>
public sealed class ReadPassTests
{
    public static TheoryData<string> Files => [Conversion.Fixture("sample.bam"), .. SharedData.WhenPresent(
        ["htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam", "pbbam__long_reads.bam", "samtools__mpileup.1.bam"]).Select(SharedData.CorpusPath)];

    [Theory]
    [MemberData(nameof(Files))]
    public void RandomPasses_GiveTheRecordsBetweenTheirPositions(string path)
    {
        (List<VirtualPosition> starts, List<byte[]> records) = ShardRuns.ReadSequentially(path);
        var random = new Random(path.Length * 31);
        for (int round = 0; round < 12; round++)
        {
            var passes = new List<ReadPass>();
            var expected = new List<byte[]>();
            for (int p = 0, count = 1 + random.Next(4); p < count; p++)
            {
                var ranges = new List<BgzfRange>();
                bool filtered = random.Next(2) == 0;
                for (int r = 0, n = 1 + random.Next(3); r < n; r++)
                {
                    int first = random.Next(records.Count + 1), last = Math.Min(records.Count, first + random.Next(records.Count / 3 + 2));
                    ranges.Add(new BgzfRange(first < records.Count ? starts[first] : BgzfRange.EndOfFile, last < records.Count ? starts[last] : BgzfRange.EndOfFile));
                    expected.AddRange(records.Skip(first).Take(last - first).Where(bytes => !filtered || Kept(bytes)));
                }

                passes.Add(new ReadPass(ranges, filtered ? static record => record.Position % 3 == 0 : null));
            }

            foreach (int threads in new[] { 1, 2, 3 })
            {
                List<byte[]> actual = Run(path, passes, threads);
                Assert.True(expected.Count == actual.Count, $"round {round}, {threads} threads: {expected.Count} records expected, {actual.Count} read");
                for (int i = 0; i < expected.Count; i++)
                {
                    Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"round {round}, {threads} threads: record {i} differs");
                }
            }
        }
    }

    [Fact]
    public void AWholeFilePassWithASelection_KeepsWhatItSelects()
    {
        string path = Conversion.Fixture("sample.bam");
        (_, List<byte[]> records) = ShardRuns.ReadSequentially(path);
        List<byte[]> actual = Run(path, [new ReadPass(null, static record => record.Position % 3 == 0)], 2);
        Assert.Equal(records.Where(Kept).Count(), actual.Count);
        Assert.NotEqual(records.Count, actual.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ManyTinyPasses_WithTheTagScan_DoNotHoldEverySlot(int threads)
    {
        // Each range is a segment of its own: a tag scan that held one slot per tiny segment, up to its record count,
        // took every slot of the source and then waited for another forever (the region fidelity test hung on a 17-record
        // file with 25 regions). 120 one-record passes, with the tag scan on.
        string path = Conversion.Fixture("sample.bam");
        (List<VirtualPosition> starts, List<byte[]> records) = ShardRuns.ReadSequentially(path);
        var passes = Enumerable.Range(0, 120).Select(i => new ReadPass([new BgzfRange(starts[i * 7], starts[(i * 7) + 1])], null)).ToList();
        var seen = new List<byte[]>();
        var engine = new BamArrowPipeline(new ConversionOptions { BatchSize = 64, MaxBatchBytes = 64 << 10 }, new PipelineOptions { Threads = threads })
            .Select(passes)
            .Then(options => Collect(seen, options));
        using BamReader reader = BamReader.Open(path);
        CancellationToken token = TestContext.Current.CancellationToken;
        using SchemaPlan plan = await engine.PlanAsync(reader, token).WaitAsync(TimeSpan.FromSeconds(30), token);
        var output = new MemoryStream();
        await engine.RunAsync(plan, new ArrowIpcSink(output, ArrowIpcFormat.File), null, token).WaitAsync(TimeSpan.FromSeconds(30), token);
        Assert.Equal(120, seen.Count);
        for (int i = 0; i < 120; i++)
        {
            Assert.True(records[i * 7].AsSpan().SequenceEqual(seen[i]), $"pass {i}");
        }
    }

    [Fact]
    public void WholeFilePasses_AmongOthers_ReadFromTheFirstRecord()
    {
        string path = Conversion.Fixture("sample.bam");
        (List<VirtualPosition> starts, List<byte[]> records) = ShardRuns.ReadSequentially(path);
        List<byte[]> actual = Run(path, [new ReadPass(null, static record => record.Position % 3 == 0), new ReadPass([new BgzfRange(starts[5], starts[9])], null), new ReadPass(null, null)], 2);
        List<byte[]> expected = [.. records.Where(Kept), .. records.Skip(5).Take(4), .. records];
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"record {i}");
        }
    }

    [Fact]
    public void NoRanges_GiveNoRecordsAndNoError()
    {
        List<byte[]> actual = Run(Conversion.Fixture("sample.bam"), [new ReadPass([], null)], 2);
        Assert.Empty(actual);
    }

    [Fact]
    public void ARangeEndingInsideARecord_IsAnErrorNamingTheFile()
    {
        string path = Conversion.Fixture("sample.bam");
        (List<VirtualPosition> starts, _) = ShardRuns.ReadSequentially(path);
        var cut = new VirtualPosition(starts[10].Value + 7); // 7 bytes into record 10 (the same block: records are short)
        Assert.Equal(starts[10].CompressedOffset, cut.CompressedOffset);
        var e = Assert.ThrowsAny<BamFormatException>(() => Run(path, [new ReadPass([new BgzfRange(starts[0], cut), new BgzfRange(starts[20], starts[30])], null)], 2));
        Assert.Contains("sample.bam", e.Message, StringComparison.Ordinal);
    }

    private static bool Kept(byte[] record) => BitConverter.ToInt32(record, 4) % 3 == 0; // SAMv1 §4.2: pos, int32 at offset 4

    /// <summary>A block that copies every record it passes on into <paramref name="seen"/>, in order.</summary>
    private static TransformBlock<RecordChunk, RecordChunk> Collect(List<byte[]> seen, ExecutionDataflowBlockOptions options) =>
        new(chunk =>
        {
            chunk.ForEach(seen, static (record, list) => list.Add(record.Data.ToArray()));
            return chunk;
        }, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, EnsureOrdered = true, BoundedCapacity = options.BoundedCapacity, CancellationToken = options.CancellationToken, TaskScheduler = options.TaskScheduler });

    private static List<byte[]> Run(string path, IReadOnlyList<ReadPass> passes, int threads)
    {
        var seen = new List<byte[]>();
        var engine = new BamArrowPipeline(new ConversionOptions { BatchSize = 7, MaxBatchBytes = 3 << 10, TagMode = TagMode.None }, new PipelineOptions { Threads = threads })
            .Select(passes)
            .Then(options => Collect(seen, options));
        using BamReader reader = BamReader.Open(path);
        engine.RunAsync(reader).GetAwaiter().GetResult();
        return seen;
    }
}
