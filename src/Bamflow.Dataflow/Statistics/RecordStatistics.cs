using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// A statistic over BAM records that observes them without changing them and can be computed in parts: each
/// worker observes its own records into its own partial (a fresh <typeparamref name="TSelf"/>), and the partials
/// are merged with <see cref="Add"/>. Every statistic here is a sum of per-record counts, so the merged result is
/// the same whatever the split and the merge order. See <see cref="BamArrowPipeline.Observe{T}"/>.
/// </summary>
/// <typeparam name="TSelf">The concrete statistic (a new, empty one is the identity of <see cref="Add"/>).</typeparam>
public abstract class RecordStatistics<TSelf>
    where TSelf : RecordStatistics<TSelf>, new()
{
    /// <summary>Counts one record. Allocates nothing per record (only when a table first needs to grow).</summary>
    public abstract void Observe(BamRecord record);

    /// <summary>Merges a partial result into this one; <paramref name="other"/> is left unchanged.</summary>
    public abstract void Add(TSelf other);
}
