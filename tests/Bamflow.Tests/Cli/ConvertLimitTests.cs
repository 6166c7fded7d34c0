using System.Text.Json;
using Apache.Arrow.Ipc;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary><c>--limit N</c>: the first N records that pass the filters (<c>samtools view FILTERS | head -n N</c>), with the full run's schema.</summary>
public sealed class ConvertLimitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-limit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Engines => new() { "-@1", "-@2", "--sequential" };

    [Theory]
    [MemberData(nameof(Engines))]
    public void Convert_LimitWithFilter_WritesTheFirstNRecordsThatPass(string engine)
    {
        string input = Conversion.Fixture("sample.bam");

        AssertHead(input, ["-q", "20"], 5, [engine], $"sample -q 20 --limit 5 {engine}");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Convert_LimitWithFilterAcrossChunks_WritesTheFirstNRecordsThatPass(string engine)
    {
        string input = SharedData.CorpusPath("htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam");

        // Small batches: the limit falls inside a chunk, after many chunks, some of them emptied by the filter.
        AssertHead(input, ["-q", "30", "-F", "0x10"], 1234, [engine, "--batch-size", "50"], $"NA12878 -q 30 -F 0x10 --limit 1234 {engine}");
    }

    [Fact]
    public void Convert_LimitZero_HasTheSchemaOfTheFullRun()
    {
        string input = Conversion.Fixture("sample.bam");
        string full = Path.Combine(_dir, "full.arrow"), none = Path.Combine(_dir, "none.arrow"), few = Path.Combine(_dir, "few.arrow");

        Assert.Equal(0, BamflowCli.Run("convert", input, "-o", full, "--quiet").ExitCode);
        Assert.Equal(0, BamflowCli.Run("convert", input, "-o", none, "--limit", "0", "--quiet").ExitCode);
        Assert.Equal(0, BamflowCli.Run("convert", input, "-o", few, "--limit", "1", "--quiet").ExitCode);

        string expected = SchemaText(full);
        Assert.Contains("tags", expected, StringComparison.Ordinal);
        Assert.Equal(expected, SchemaText(none));
        Assert.Equal(expected, SchemaText(few));
        Assert.DoesNotContain(ArrowSam.ReadAll(File.ReadAllBytes(none), stream: false), b => b.Length > 0);
    }

    private void AssertHead(string input, string[] filters, int limit, string[] options, string context)
    {
        string output = Path.Combine(_dir, "out.arrow");
        string json = Path.Combine(_dir, "summary.json");

        var result = BamflowCli.Run(["convert", input, "-o", output, "--limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture), "--summary-json", json, .. filters, .. options]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        List<ArrowSam.Line> passing = ArrowSam.SamtoolsView(filters, input);
        Assert.True(passing.Count > limit, $"{context}: the case needs more than {limit} passing records");
        ArrowSam.AssertSame(passing.Take(limit).ToList(), ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false)).ToList(), context);
        using var summary = JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.Equal(limit, summary.RootElement.GetProperty("records").GetInt64());

        // Records read: up to the last one written, as samtools view | head reads them.
        List<ArrowSam.Line> all = ArrowSam.SamtoolsLines(input);
        int through = all.FindIndex(line => line.Fields == passing[limit - 1].Fields) + 1;
        Assert.Equal(through, summary.RootElement.GetProperty("records_read").GetInt64());
    }

    private static string SchemaText(string path)
    {
        using var reader = new ArrowFileReader(File.OpenRead(path));
        return string.Join('\n', reader.Schema.FieldsList.Select(Describe));

        static string Describe(Apache.Arrow.Field field) =>
            field.DataType is Apache.Arrow.Types.StructType s ? $"{field.Name}{{{string.Join(',', s.Fields.Select(Describe))}}}" : $"{field.Name}:{field.DataType.Name}";
    }
}
