using System.Globalization;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>The sample programs under src/Samples, built with the tests and run as a user runs them.</summary>
public sealed class SampleProgramTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-samples-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FilterAndStats_KeepsWhatSamtoolsKeepsAndCountsInsertSizes()
    {
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "filtered.arrow");

        var result = BamflowCli.RunDll(BamflowCli.Built(Path.Combine("src", "Samples", "FilterAndStats"), "FilterAndStats.dll"), input, output);

        Assert.True(result.ExitCode == 0, result.Stderr);
        List<ArrowSam.Line> kept = ArrowSam.SamtoolsView(["-F", "0x904", "-q", "20"], input);
        ArrowSam.AssertSame(kept, ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false)).ToList(), "FilterAndStats");
        string[][] fields = [.. kept.Select(l => l.Fields.Split('\t'))];
        long[] inserts = [.. fields.Where(f => (int.Parse(f[1], CultureInfo.InvariantCulture) & 0x42) == 0x42 && f[8] != "0").Select(f => Math.Abs(long.Parse(f[8], CultureInfo.InvariantCulture)))];
        Assert.Contains($"kept {kept.Count} of 2023 records", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"proper pairs: {inserts.Length}, mean insert size: {inserts.Average():F1}"), result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public void CustomSink_WritesEveryRecordsColumnsAsTsv()
    {
        string input = Conversion.Fixture("sample.bam");

        var result = BamflowCli.RunDll(BamflowCli.Built(Path.Combine("src", "Samples", "CustomSink"), "CustomSink.dll"), input);

        Assert.True(result.ExitCode == 0, result.Stderr);
        string[] lines = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("qname\tflag\trname\tpos\tend", lines[0]);
        string[] expected = [.. ArrowSam.SamtoolsLines(input).Select(l => string.Join('\t', l.Fields.Split('\t')[..4]))];
        Assert.Equal(expected, lines[1..].Select(l => string.Join('\t', l.Split('\t')[..4])));
    }

    [Fact]
    public void Readme_ShowsTheFilterAndStatsSampleAsItIs()
    {
        string program = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "src", "Samples", "FilterAndStats", "Program.cs")).ReplaceLineEndings("\n");
        string readme = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");

        Assert.Contains("```csharp\n" + program + "```", readme, StringComparison.Ordinal);
    }
}
