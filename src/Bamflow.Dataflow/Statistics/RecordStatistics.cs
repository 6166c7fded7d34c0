using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// Statistics over records that can be computed in parts and added up: the engine gives each worker a fresh
/// instance for its chunk (<see cref="Observe"/>) and adds the parts into the one you passed
/// (<see cref="Add"/>). See <see cref="BamArrowPipeline.Observe{T}"/>.
/// </summary>
/// <typeparam name="TSelf">The statistics type itself.</typeparam>
public abstract class RecordStatistics<TSelf>
    where TSelf : RecordStatistics<TSelf>, new()
{
    /// <summary>Counts one record. Called for every record, so it must not allocate.</summary>
    public abstract void Observe(BamRecord record);

    /// <summary>Adds the counts of <paramref name="other"/> (a part) to these.</summary>
    public abstract void Add(TSelf other);
}
