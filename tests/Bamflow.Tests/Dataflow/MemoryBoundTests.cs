using System.Runtime.InteropServices;
using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>
/// What a run holds in memory is set by its capacities, not by the input's length: at most the conversion capacity's
/// batches (the one being written included) and a fixed number of segment buffers (4 for the tag scan + capacity ×
/// (record stages + 1) + threads + 5).
/// </summary>
public sealed class MemoryBoundTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    // The sample's 2,023 records ten times over (samtools cat): 203 batches of 100.
    private readonly RepeatedBam _input = new("sample.bam", 10);

    public void Dispose() => _input.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task Convert_SlowSink_HoldsTheCapacitysBatchesAndBoundedSegments(int threads)
    {
        // A sink much slower than conversion: every conversion slot fills, and whatever the engine lets run ahead of
        // the sink does. Each batch's buffers are the pool's arrays, so the distinct arrays the sink sees are those
        // the run had to allocate: about capacity x arrays per batch when only the capacity's batches are alive
        // (one more batch, as before the bound, would make that capacity + 1).
        using BamReader reader = BamReader.Open(_input.Path);
        var pipeline = new PipelineOptions { Threads = threads };
        int capacity = pipeline.EffectiveCapacity;
        var sink = new SlowSink(new ArrowIpcSink(Stream.Null, ArrowIpcFormat.Stream), TimeSpan.FromMilliseconds(3));
        // Segments of 256 KiB of BGZF blocks (≈ 1,100 records, so 11 chunks of 100 each): 19 of them.
        var engine = new BamArrowPipeline(new ConversionOptions { BatchSize = 100, TagScanRecords = 100, MaxBatchBytes = 256 << 10 }, pipeline);

        ConversionSummary summary = await engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken);

        Assert.Equal(20_230, summary.Records);
        Assert.Equal(capacity, summary.PeakBatches); // every slot used, none more
        Assert.InRange(summary.PeakChunks, 2, SegmentBound(capacity, threads));
        string seen = $"threads={threads}: {sink.DistinctArrays} distinct arrays, {sink.MaxArraysPerBatch} per batch";
        Assert.True(sink.DistinctArrays <= capacity * sink.MaxArraysPerBatch + sink.MaxArraysPerBatch / 2, seen);
    }

    [Fact]
    public async Task Plan_ManySmallChunks_HoldsItsByteBudgetNotItsRecordCount()
    {
        // Batches of one record and a tag scan of 10,000 records: the plan holds chunks up to 2 batches' bytes (128 KiB,
        // about 580 records), not 10,000 of them, and the run's segment buffers stay within the fixed bound.
        const int Budget = 64 << 10, Scan = 10_000;
        var pipeline = new PipelineOptions { Threads = 2 };
        List<int> perSegment = ChunkRuleOracle.BatchLengths(_input.Path, Budget, int.MaxValue);
        int bound = SegmentBound(pipeline.EffectiveCapacity, pipeline.Threads);
        Assert.True(perSegment.Count > bound + 10, $"{perSegment.Count} segments: too few for the bound to matter");
        using BamReader reader = BamReader.Open(_input.Path);
        var engine = new BamArrowPipeline(new ConversionOptions { BatchSize = 1, TagScanRecords = Scan, MaxBatchBytes = Budget }, pipeline);

        using SchemaPlan plan = await engine.PlanAsync(reader, TestContext.Current.CancellationToken);
        long scanned = plan.TagScanRecords;
        ConversionSummary summary = await engine.RunAsync(plan, new ArrowIpcSink(Stream.Null, ArrowIpcFormat.Stream), null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken);

        Assert.Equal(20_230, summary.Records);
        // 2 x 64 KiB of records: a segment here is two BGZF blocks of 65,280 inflated bytes (one is under the budget), so
        // the scan holds about one segment's records: more than half the first segment's, fewer than two segments'.
        Assert.InRange(scanned, (perSegment[0] / 2) + 1, perSegment.Take(2).Sum());
        Assert.InRange(summary.PeakChunks, 2, bound);
    }

    [Fact]
    public async Task Convert_Sequential_IsTheOneThreadGraphWithItsBound()
    {
        using BamReader reader = BamReader.Open(_input.Path);
        var engine = new BamArrowPipeline(new ConversionOptions { BatchSize = 100, TagScanRecords = 1000, MaxBatchBytes = 64 << 10 }, new PipelineOptions { Sequential = true, Threads = 4 });

        ConversionSummary summary = await engine.RunAsync(reader, new ArrowIpcSink(Stream.Null, ArrowIpcFormat.Stream), null, TestContext.Current.CancellationToken);

        Assert.Equal(1, summary.Threads);
        Assert.Equal(20_230, summary.Records);
        Assert.InRange(summary.PeakChunks, 1, SegmentBound(2, 1));
        Assert.InRange(summary.PeakBatches, 1, 2);
    }

    /// <summary>The engine's fixed number of segment buffers without record stages (PipelineOptions' PeakChunks).</summary>
    private static int SegmentBound(int capacity, int threads) => 4 + capacity + threads + 5;

    [Fact]
    public async Task Then_UserBlockHoldsManyChunks_RunDoesNotWaitForThem()
    {
        // A block of the user's that passes chunks on only in tens: more than the engine's bound on chunk buffers
        // (capacity 2 + 1 + 2 threads). The source must not wait for releases that only come once the block lets go.
        // Segments of 16 KiB of BGZF blocks are one block each, one chunk each (≈ 220 records): 92 of them.
        var engine = new BamArrowPipeline(new ConversionOptions { MaxBatchBytes = 16 << 10 }, new PipelineOptions { Threads = 2 }).Then(InTens<RecordChunk>);

        ConversionSummary summary = await ConvertAndCheckAsync(engine);

        Assert.True(summary.PeakChunks >= 10, $"{summary.PeakChunks} chunk buffers at once");
    }

    [Fact]
    public async Task ThenBatches_UserBlockHoldsManyBatches_RunDoesNotWaitForThem()
    {
        var engine = new BamArrowPipeline(new ConversionOptions { BatchSize = 100 }, new PipelineOptions { Threads = 2 }).ThenBatches(InTens<RecordBatch>);

        ConversionSummary summary = await ConvertAndCheckAsync(engine);

        Assert.True(summary.PeakBatches > 10, $"{summary.PeakBatches} batches at once");
    }

    /// <summary>A block that holds items until it has ten, then passes them on in order.</summary>
    private static IPropagatorBlock<T, T> InTens<T>(ExecutionDataflowBlockOptions options)
    {
        var tens = new BatchBlock<T>(10);
        var flatten = new TransformManyBlock<T[], T>(held => held, new ExecutionDataflowBlockOptions { TaskScheduler = options.TaskScheduler });
        tens.LinkTo(flatten, new DataflowLinkOptions { PropagateCompletion = true });
        return DataflowBlock.Encapsulate(tens, flatten);
    }

    /// <summary>Runs <paramref name="engine"/> on the input within the deadline; every record arrives.</summary>
    private async Task<ConversionSummary> ConvertAndCheckAsync(BamArrowPipeline engine)
    {
        using BamReader reader = BamReader.Open(_input.Path);
        var output = new MemoryStream();

        ConversionSummary summary = await engine.RunAsync(reader, new ArrowIpcSink(output, ArrowIpcFormat.File), null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken);

        Assert.Equal(20_230, summary.Records);
        Assert.Equal(20_230, ArrowSam.ReadAll(output.ToArray(), stream: false).Sum(b => b.Length));
        return summary;
    }

    /// <summary>Passes batches on after a pause, noting the arrays behind them.</summary>
    private sealed class SlowSink(ArrowIpcSink inner, TimeSpan pause) : IRecordBatchSink
    {
        private readonly HashSet<byte[]> _arrays = new(ReferenceEqualityComparer.Instance);

        public int DistinctArrays => _arrays.Count;

        public int MaxArraysPerBatch { get; private set; }

        public bool ReleasesBatchMemory => inner.ReleasesBatchMemory;

        public Task StartAsync(Schema schema, CancellationToken cancellationToken) => inner.StartAsync(schema, cancellationToken);

        public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            var mine = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
            foreach (IArrowArray array in batch.Arrays)
            {
                Collect(array.Data, mine);
            }

            _arrays.UnionWith(mine);
            MaxArraysPerBatch = Math.Max(MaxArraysPerBatch, mine.Count);
            await Task.Delay(pause, cancellationToken);
            await inner.WriteAsync(batch, cancellationToken);
        }

        public Task CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private static void Collect(ArrayData data, HashSet<byte[]> arrays)
        {
            foreach (ArrowBuffer buffer in data.Buffers ?? [])
            {
                if (MemoryMarshal.TryGetArray(buffer.Memory, out ArraySegment<byte> segment) && segment.Array is { Length: > 0 } array)
                {
                    arrays.Add(array);
                }
            }

            foreach (ArrayData child in data.Children ?? [])
            {
                Collect(child, arrays);
            }
        }
    }
}
