using Apache.Arrow;

namespace Bamflow.Arrow;

/// <summary>Where the pipeline's batches go, in order, one at a time.</summary>
public interface IRecordBatchSink : IAsyncDisposable
{
    /// <summary>Called once, before any batch, with the schema of every batch to come.</summary>
    Task StartAsync(Schema schema, CancellationToken cancellationToken);

    /// <summary>
    /// Writes one batch. The sink does not own it: the pipeline disposes it afterwards (unless the sink took
    /// the run's batches in <see cref="Attach"/>).
    /// </summary>
    Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the sink is done with a batch's memory once <see cref="WriteAsync"/> returns (it serialized it), so
    /// the engine may reuse that memory for later batches. Default false: batches are left to the GC, and a sink
    /// may keep them.
    /// </summary>
    bool ReleasesBatchMemory => false;

    /// <summary>
    /// Called once by the parallel engine, after <see cref="StartAsync"/> and before the first batch: the run's scheduler and workers, for a
    /// sink that does its own work in the background. Return true to take the run's batches: the sink then
    /// passes every batch <see cref="WriteAsync"/> received to <see cref="SinkContext.Release"/> exactly once,
    /// when done with it (also after <see cref="WriteAsync"/> returned), and the engine neither disposes nor
    /// reuses a batch before that. Default: false, nothing changes.
    /// </summary>
    bool Attach(SinkContext context) => false;

    /// <summary>Called once after the last batch of a successful run (also for zero batches).</summary>
    Task CompleteAsync(CancellationToken cancellationToken);
}

/// <summary>What the parallel engine offers a sink in <see cref="IRecordBatchSink.Attach"/>.</summary>
/// <param name="Scheduler">Where the run's blocks execute (at most <paramref name="Workers"/> at a time): work queued here shares the run's cores.</param>
/// <param name="Workers">The run's worker count (<c>PipelineOptions.Threads</c>).</param>
/// <param name="Cancellation">Cancelled when the run stops (an error elsewhere, or the caller's cancellation).</param>
/// <param name="Release">Hands a batch back to the engine (its memory is reused, then it is disposed); thread-safe.</param>
public sealed record SinkContext(TaskScheduler Scheduler, int Workers, CancellationToken Cancellation, Action<RecordBatch> Release);
