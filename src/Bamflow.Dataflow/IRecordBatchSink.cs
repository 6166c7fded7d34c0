using Apache.Arrow;

namespace Bamflow.Dataflow;

/// <summary>Where the pipeline's batches go, in order, one at a time.</summary>
public interface IRecordBatchSink : IAsyncDisposable
{
    /// <summary>Called once, before any batch, with the schema of every batch to come.</summary>
    Task StartAsync(Schema schema, CancellationToken cancellationToken);

    /// <summary>Writes one batch. The sink does not own it: the pipeline disposes it afterwards.</summary>
    Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the sink is done with a batch's memory once <see cref="WriteAsync"/> returns (it serialized it), so
    /// the engine may reuse that memory for later batches. Default false: batches are left to the GC, and a sink
    /// may keep them.
    /// </summary>
    bool ReleasesBatchMemory => false;

    /// <summary>Called once after the last batch of a successful run (also for zero batches).</summary>
    Task CompleteAsync(CancellationToken cancellationToken);
}
