using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Bamflow.Arrow;
using Bamflow.Bam;

namespace Bamflow.Benchmarks.Arrow;

/// <summary>
/// Building Arrow record batches from <see cref="BenchmarkInput.RecordCount"/> records, cut as the engine cuts
/// them (default batch size and byte budget), every column including the discovered tags; per operation = per
/// record. Batches are disposed (and, with the pool, their buffers returned) as soon as they are built, so the
/// pooled case measures the steady state of a long conversion.
/// Baseline: strings per record appended to Apache.Arrow's own builders (<see cref="NaiveBatchBuilder"/>).
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("BatchBuild")]
public class BatchBuildBenchmarks
{
    private BenchmarkInput? _input;
    private BatchPlan? _plan;
    private NaiveBatchBuilder? _naive;
    private ColumnBufferPool? _pool;
    private RecordBatchBuilder? _pooled;
    private RecordBatchBuilder? _unpooled;

    /// <summary>Loads the records, discovers the tags and plans the batches.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _input = BenchmarkInput.Load();
        _plan = BatchPlan.Create(_input);
        _naive = new NaiveBatchBuilder(_input.Header);
        _pool = ColumnBufferPool.CreatePooling();
        _pooled = new RecordBatchBuilder(_plan.Schema, _pool);
        _unpooled = new RecordBatchBuilder(_plan.Schema);
    }

    /// <summary>Naive: strings per record into Apache.Arrow's StringArray.Builder and friends.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long ArrowBuildersStrings()
    {
        long checksum = 0;
        foreach ((int offset, int length) in _plan!.Batches)
        {
            using RecordBatch batch = _naive!.Build(_input!.Records, offset, length);
            checksum = Checksum.Mix(checksum, BatchPlan.Checksum(batch));
        }

        return checksum;
    }

    /// <summary>Bamflow's RecordBatchBuilder with a pooling ColumnBufferPool, batches returned to it (the engine's way).</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long RecordBatchBuilderPooled() => BuildAll(_pooled!, _pool);

    /// <summary>Bamflow's RecordBatchBuilder without a pool: new column arrays for every batch, left to the GC.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long RecordBatchBuilderNoPool() => BuildAll(_unpooled!, null);

    private long BuildAll(RecordBatchBuilder builder, ColumnBufferPool? pool)
    {
        long checksum = 0;
        int referenceCount = _input!.Header.References.Count;
        foreach ((int start, int length) in _plan!.Batches)
        {
            ReadOnlySpan<byte> data = _input.Records.AsSpan(start, length);
            int offset = 0;
            while (BenchmarkInput.NextRecord(data, ref offset, referenceCount, out BamRecord record))
            {
                builder.Append(record);
            }

            using RecordBatch batch = builder.Build();
            checksum = Checksum.Mix(checksum, BatchPlan.Checksum(batch));
            pool?.Return(batch);
        }

        return checksum;
    }
}
