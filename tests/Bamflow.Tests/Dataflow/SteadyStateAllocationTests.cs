using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>Tests that count every byte the process allocates, so nothing else may run beside them.</summary>
[CollectionDefinition(nameof(AllocationCounting), DisableParallelization = true)]
public sealed class AllocationCounting;

/// <summary>
/// Once the pools are warm, a run allocates per batch (Arrow's array objects, the IPC writer's messages), never per
/// record or per block: the bytes allocated between two batches do not grow with the records in them.
/// </summary>
[Collection(nameof(AllocationCounting))]
public sealed class SteadyStateAllocationTests : IDisposable
{
    // The sample's 2,023 records ten times over (samtools cat): long enough to measure well after the pools warm up.
    private readonly RepeatedBam _input = new("sample.bam", 50);

    public void Dispose() => _input.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Convert_WarmPools_AllocationPerBatchDoesNotGrowWithRecords(bool sequential)
    {
        // The same number of batches measured, with 20x the records in each. A single allocation per record (24 bytes
        // at the least) would add 45,600 bytes to each batch of 2,000. The median batch: other threads' work (the next
        // batch being built, a pool growing once while several batches are in flight) lands between two batches.
        // Batches of 2,000 against 100 (not 400): at one thread the graph's own per-batch allocations (Dataflow's
        // postponed offers and restarted tasks, ≈ 6.5 KB in some runs and not others) would otherwise pass for 16 bytes
        // a record; spread over 1,900 more records they are ≈ 3.
        double small = await BytesPerBatchAsync(batchSize: 100, sequential);
        double large = await BytesPerBatchAsync(batchSize: 2000, sequential);

        double perExtraRecord = (large - small) / 1900;
        Assert.True(perExtraRecord < 16, $"{small:F0} bytes per batch of 100 records, {large:F0} per batch of 2,000: {perExtraRecord:F1} bytes per record");
    }

    private async Task<double> BytesPerBatchAsync(int batchSize, bool sequential)
    {
        using BamReader reader = BamReader.Open(_input.Path);
        var sink = new AllocationSink(new ArrowIpcSink(Stream.Null, ArrowIpcFormat.Stream));
        var engine = new BamArrowPipeline(new ConversionOptions { BatchSize = batchSize }, new PipelineOptions { Threads = 2, Sequential = sequential });

        await engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken);

        // Batches 20 to 45 of the 50 (or 1,000): by then every pool holds what the run needs.
        Assert.True(sink.AllocatedAt.Count >= 46, $"{sink.AllocatedAt.Count} batches");
        long[] perBatch = [.. Enumerable.Range(20, 25).Select(i => sink.AllocatedAt[i + 1] - sink.AllocatedAt[i]).Order()];
        return perBatch[perBatch.Length / 2];
    }

    /// <summary>Notes the process's allocated bytes after each batch, then passes it on.</summary>
    private sealed class AllocationSink(ArrowIpcSink inner) : IRecordBatchSink
    {
        public List<long> AllocatedAt { get; } = [];

        public bool ReleasesBatchMemory => inner.ReleasesBatchMemory;

        public Task StartAsync(Schema schema, CancellationToken cancellationToken) => inner.StartAsync(schema, cancellationToken);

        public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            await inner.WriteAsync(batch, cancellationToken);
            AllocatedAt.Add(GC.GetTotalAllocatedBytes(precise: true));
        }

        public Task CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
