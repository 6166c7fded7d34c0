using System.Text.Json;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary><c>bamflow convert</c>'s record filters keep what <c>samtools view</c> keeps with the same options.</summary>
public sealed class ConvertFilterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-filter-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("-f", "PAIRED,READ1", "-F", "0x900", "-q", "20", "-r", "demo")]
    [InlineData("-F", "4", "-G", "0x50")]
    [InlineData("-f", "020", "-q", "60")]
    [InlineData("-r", "no-such-group")]
    public void Convert_SamtoolsFilterOptions_KeepWhatSamtoolsViewKeeps(params string[] filters)
    {
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "out.arrow");
        string json = Path.Combine(_dir, "summary.json");

        var result = BamflowCli.Run(["convert", input, "-o", output, "--summary-json", json, .. filters]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsView(filters, input);
        ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false)).ToList(), string.Join(' ', filters));
        using var summary = JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.Equal(expected.Count, summary.RootElement.GetProperty("records").GetInt64());
        Assert.Equal(2023, summary.RootElement.GetProperty("records_read").GetInt64());
    }

    [Theory]
    [InlineData("out.arrow")]
    [InlineData("out.parquet")]
    public void Convert_FilterDroppingEveryRecordOfTheFirstBatches_WritesTheRest(string name)
    {
        // sample.bam's unplaced reads are its last 40: with batches of 64 records, -f 4 leaves the first 30 batches empty.
        // An empty batch released before the first written one used to dispose the shared reference dictionary (a
        // NullReferenceException inside Arrow's writer: exit 1, "internal error").
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, name);

        var result = BamflowCli.Run("convert", input, "-o", output, "-f", "4", "--batch-size", "64", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsView(["-f", "4"], input);
        Assert.Equal(40, expected.Count);
        List<ArrowSam.Line> actual = name.EndsWith(".parquet", StringComparison.Ordinal)
            ? ParquetSam.Lines(output)
            : [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false))];
        ArrowSam.AssertSame(expected, actual, "-f 4 --batch-size 64");
    }

    [Fact]
    public void Convert_Reference_KeepsTheRecordsPlacedOnIt()
    {
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "out.arrow");

        var result = BamflowCli.Run("convert", input, "-o", output, "--ref", "chrA", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(input).Where(l => l.Fields.Split('\t')[2] == "chrA").ToList();
        Assert.NotEmpty(expected);
        ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false)).ToList(), "--ref chrA");
    }

    [Fact]
    public void Convert_Stats_PrintsEveryStageAndPeakMemory()
    {
        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", "/dev/null", "--stats", "-F", "4");

        Assert.True(result.ExitCode == 0, result.Stderr);
        foreach (string stage in (string[])["read ", "read: waiting (backpressure)", "inflate", "chunk", "-F", "convert", "write", "peak memory", " at once"])
        {
            Assert.Contains(stage, result.Stderr, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("-f", "NOT_A_FLAG")]
    [InlineData("-F", "0x1FFFF")]
    [InlineData("-G", "08")]
    [InlineData("--ref", "chrNope")]
    [InlineData("-q", "high")]
    public void Convert_BadFilterValue_ExitsTwoAndWritesNothing(string option, string value)
    {
        string output = Path.Combine(_dir, "out.arrow");

        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output, option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.NotEmpty(result.Stderr);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
