using Bamflow.Bam.Index;

namespace Bamflow.Dataflow;

public sealed partial class BamArrowPipeline
{
    /// <summary>
    /// Reads only the records a region query selects (<see cref="RegionQuery"/>: regions through a BAI/CSI index, as
    /// <c>samtools view IN.bam REGION…</c> does, with <c>-M</c> and <c>-L</c>): the index's ranges of the file are read,
    /// inflated and converted on every core, and the records in them that do not overlap the region are dropped, first
    /// of every record stage, in parallel. Passes are read one after the other (without <c>-M</c>, a record in two
    /// regions comes out twice, as samtools writes it). The reader must be of a file (a region needs to seek).
    /// The tag scan looks at the selected records only. One query per engine.
    /// </summary>
    public BamArrowPipeline Regions(RegionQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Select([.. query.Passes.Select(pass => new ReadPass(pass.Ranges, pass.KeepsAll ? null : pass.Keeps))]);
    }
}
