// Sample: a custom sink that writes a few columns as TSV (qname, flag, rname, pos, end) to stdout.
//   dotnet run --project src/Samples/CustomSink -- tests/fixtures/sample.bam > reads.tsv
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;

string inputPath = args.Length > 0 ? args[0] : "tests/fixtures/sample.bam";

using BamReader reader = BamReader.Open(inputPath);
var engine = new BamArrowPipeline(new ConversionOptions { IncludeSequence = false, IncludeQuality = false, TagMode = TagMode.None });
await using var sink = new TsvSink(Console.Out);
ConversionSummary summary = await engine.RunAsync(reader, sink);
await Console.Error.WriteLineAsync($"{summary.Records} records");

/// <summary>Writes qname, flag, rname, pos and end of every row as tab-separated text.</summary>
internal sealed class TsvSink(TextWriter output) : IRecordBatchSink
{
    public Task StartAsync(Schema schema, CancellationToken cancellationToken) =>
        output.WriteLineAsync("qname\tflag\trname\tpos\tend".AsMemory(), cancellationToken);

    public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        var qname = (StringArray)batch.Column(BamColumns.QName);
        var flag = (UInt16Array)batch.Column(BamColumns.Flag);
        var rname = (DictionaryArray)batch.Column(BamColumns.RName);
        var names = (StringArray)rname.Dictionary;
        var indices = (Int32Array)rname.Indices;
        var pos = (Int32Array)batch.Column(BamColumns.Pos);
        var end = (Int32Array)batch.Column(BamColumns.End);
        for (int row = 0; row < batch.Length; row++)
        {
            string reference = indices.IsNull(row) ? "*" : names.GetString(indices.GetValue(row)!.Value);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{qname.GetString(row) ?? "*"}\t{flag.GetValue(row)}\t{reference}\t{pos.GetValue(row) ?? 0}\t{(end.IsNull(row) ? "*" : end.GetValue(row))}").AsMemory(), cancellationToken);
        }
    }

    public Task CompleteAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
