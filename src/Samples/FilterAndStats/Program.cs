// Sample: keep primary, mapped reads with MAPQ >= 20, count insert sizes on the way, write Arrow.
//   dotnet run --project src/Samples/FilterAndStats -- tests/fixtures/sample.bam filtered.arrow
using Bamflow.Bam;
using Bamflow.Dataflow;

string inputPath = args.Length > 0 ? args[0] : "tests/fixtures/sample.bam";
string outputPath = args.Length > 1 ? args[1] : "filtered.arrow";

using BamReader reader = BamReader.Open(inputPath);
var inserts = new InsertSizes();
var engine = new BamArrowPipeline()
    .Where(RecordFilters.ExcludeAnyFlags(0x904))          // samtools view -F 0x904: unmapped, secondary, supplementary
    .Where(RecordFilters.MinimumMappingQuality(20))       // samtools view -q 20
    .Where(record => record.ReadName.Length > 0, "named") // any predicate over the record view
    .Observe(inserts);                                    // a statistics tap: sees what the filters kept

await using OutputTarget output = OutputTarget.Open(outputPath);   // temp file + rename on commit
await using var sink = new ArrowIpcSink(output.Stream, ArrowIpcFormat.File);
ConversionSummary summary = await engine.RunAsync(reader, sink);
await output.CommitAsync();                                        // only now does outputPath appear

Console.WriteLine($"kept {summary.Records} of {summary.RecordsRead} records");
Console.WriteLine($"proper pairs: {inserts.Pairs}, mean insert size: {inserts.Mean:F1}");

/// <summary>Insert sizes of properly paired first mates: counted in parallel parts, added up by the engine.</summary>
internal sealed class InsertSizes : RecordStatistics<InsertSizes>
{
    public long Pairs { get; private set; }

    public long Total { get; private set; }

    public double Mean => Pairs == 0 ? 0 : (double)Total / Pairs;

    public override void Observe(BamRecord record)
    {
        if ((record.Flag & 0x42) == 0x42 && record.TemplateLength != 0) // paired, first in pair, with a TLEN
        {
            Pairs++;
            Total += Math.Abs(record.TemplateLength);
        }
    }

    public override void Add(InsertSizes other)
    {
        Pairs += other.Pairs;
        Total += other.Total;
    }
}
