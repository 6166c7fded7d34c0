namespace Bamflow.Dataflow;

/// <summary>
/// Collects the GC's youngest generation once the run has allocated <see cref="PipelineOptions.YoungCollectionBytes"/>
/// since the last collection (checked once per batch, by the one writer). The run's big buffers are pooled, so what
/// it allocates afterwards is only small objects (≈ 30 KB a batch: Arrow's array objects, the IPC metadata, Dataflow's
/// tasks). The GC sizes its young generation from the CPU's cache (tens of MB) and would collect it rarely: the
/// process would grow by up to that much over a long run, a peak that depends on the input's length.
/// </summary>
internal sealed class YoungCollector(long budget)
{
    private long _mark = GC.GetTotalAllocatedBytes(precise: false);

    /// <summary>Collections this run asked for.</summary>
    public int Collections { get; private set; }

    /// <summary>Called after each batch (or chunk) has left the run.</summary>
    public void AfterBatch()
    {
        if (budget <= 0)
        {
            return;
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        if (allocated - _mark >= budget)
        {
            // Gen0 only: almost nothing in it survives, so the pause is a fraction of a millisecond.
            GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: false);
            Collections++;
            _mark = GC.GetTotalAllocatedBytes(precise: false);
        }
    }
}
