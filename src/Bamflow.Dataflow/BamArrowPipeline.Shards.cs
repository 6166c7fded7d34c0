using Bamflow.Arrow;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

public sealed partial class BamArrowPipeline
{
    /// <summary>
    /// Reads only shard <paramref name="shard"/> (1-based) of <paramref name="plan"/>: the records whose first byte is in
    /// its range of the file, read, inflated and converted on every core as a whole file is. The schema is the plan's
    /// (its tag scan of the file's start, as a whole run makes it), so every shard of the file has the same one, and the
    /// shards' rows, in order, are the whole run's. The reader must be of the planned file (see <see cref="ShardPlan.CheckInput"/>).
    /// </summary>
    public BamArrowPipeline Shard(ShardPlan plan, int shard)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Select([plan.Pass(shard)]);
        _knownTags = plan.TagScan;
        return this;
    }

    /// <summary>
    /// The tag scan of a whole run of <paramref name="reader"/> (its leading records, as <see cref="PlanAsync(BamReader, CancellationToken)"/>
    /// scans them with these options), reading only the segments the scan takes. Consumes the reader's records.
    /// </summary>
    internal async Task<(TagDiscovery Tags, long CompressedBytesRead)> ScanTagsAsync(BamReader reader, CancellationToken cancellationToken)
    {
        using SchemaPlan plan = await PlanAsync(reader, forConversion: false, cancellationToken, scanOnly: true).ConfigureAwait(false);
        return (plan.TagScan, plan.Source.CompressedBytesRead);
    }
}
