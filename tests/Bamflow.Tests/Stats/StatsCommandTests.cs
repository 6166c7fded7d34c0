using System.Text;
using System.Text.Json;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Stats;

/// <summary><c>bamflow stats</c>, run as a user runs it, against <c>samtools flagstat</c> byte for byte.</summary>
public sealed class StatsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-stats-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void Stats_File_PrintsExactlyWhatSamtoolsFlagstatPrints(string name)
    {
        string path = StatsFiles.PathOf(name);

        AssertSameAsSamtools(path, name);
    }

    public static TheoryData<string> BrokenFiles => [.. SharedData.CorpusFiles(bad: true)];

    /// <summary>Broken corpus files: where samtools flagstat still succeeds (only the EOF marker is missing) the same output, else exit 1 as samtools.</summary>
    [CorpusTheory]
    [MemberData(nameof(BrokenFiles))]
    public void Stats_BrokenCorpusFile_AgreesWithSamtoolsOnOutputOrFailure(string name)
    {
        string path = SharedData.CorpusPath(name);
        (int samtoolsCode, byte[] expected, string samtoolsError) = Samtools.Run(null, "flagstat", path);

        var result = BamflowCli.Run("stats", path);

        if (samtoolsCode == 0)
        {
            Assert.True(result.ExitCode == 0, $"{name}: samtools read it (warning: {samtoolsError.Trim()}) but bamflow exited {result.ExitCode}: {result.Stderr}");
            StatsFiles.AssertSameText(Encoding.UTF8.GetString(expected), result.StdoutText, name);
        }
        else
        {
            Assert.True(result.ExitCode == 1, $"{name}: samtools failed ({samtoolsError.Trim()}) but bamflow exited {result.ExitCode}");
            Assert.Empty(result.Stdout);
            Assert.Contains("bamflow: error:", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Stats_Stdin_ReadsTheBamFromThePipe()
    {
        string path = Conversion.Fixture("sample.bam");

        var result = BamflowCli.Run(File.ReadAllBytes(path), "stats", "-");

        Assert.True(result.ExitCode == 0, result.Stderr);
        StatsFiles.AssertSameText(StatsFiles.Samtools("sample", "flagstat", path), result.StdoutText, "stdin");
    }

    [Fact]
    public void Extended_Sample_AppendsSectionsAfterTheFlagstatLines()
    {
        string path = Conversion.Fixture("sample.bam");
        (BamStatistics stats, BamHeader header) = StatsFiles.Compute<BamStatistics>(path);

        var result = BamflowCli.Run("stats", "--extended", path);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith(StatsFiles.Samtools("sample", "flagstat", path), result.StdoutText, StringComparison.Ordinal);
        Assert.Equal(stats.ToExtendedText(header.References), result.StdoutText);
        string[] lines = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(stats.MappingQualities.ToText(), string.Concat(lines.Where(l => l.StartsWith("MAPQ\t", StringComparison.Ordinal)).Select(l => l + "\n")));
        Assert.Contains("REF\tchrA\t20000\t1037\t0", lines);
        Assert.Contains("REF\t*\t0\t0\t40", lines);
    }

    [Fact]
    public void ExtendedJson_Sample_IsValidJsonWithFlagstatKeysFirst()
    {
        string path = Conversion.Fixture("sample.bam");

        var result = BamflowCli.Run("stats", "--json", "--extended", path);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.StdoutText);
        Assert.Equal(["QC-passed reads", "QC-failed reads", "MAPQ", "read length", "references"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2023, document.RootElement.GetProperty("QC-passed reads").GetProperty("total").GetInt64());
        Assert.Equal(2000, document.RootElement.GetProperty("read length").GetProperty("100").GetInt64());
    }

    [Fact]
    public void Stats_NotABamFile_ExitsOneWithMessage()
    {
        string path = Path.Combine(_dir, "text.bam");
        File.WriteAllText(path, "this is not a BAM file\n");

        var result = BamflowCli.Run("stats", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Contains("bamflow: error:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(path, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_TruncatedBam_ExitsOneWithMessageAndPrintsNoCounts()
    {
        byte[] sample = File.ReadAllBytes(Conversion.Fixture("sample.bam"));
        string path = Path.Combine(_dir, "truncated.bam");
        File.WriteAllBytes(path, sample.AsSpan(0, sample.Length / 2).ToArray());

        var result = BamflowCli.Run("stats", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Contains("bamflow: error:", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_MissingFile_ExitsOne()
    {
        var result = BamflowCli.Run("stats", Path.Combine(_dir, "absent.bam"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("absent.bam", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stats")]
    [InlineData("stats", "x.bam", "--threads", "-1")]
    [InlineData("stats", "x.bam", "--no-such-option")]
    [InlineData("stats", "SAMPLE", "SAMPLE")]
    public void BadUsage_ExitsTwo(params string[] arguments)
    {
        // SAMPLE: the sample BAM, given twice: the second is taken for a region, and named as a file.
        var result = BamflowCli.Run([.. arguments.Select(a => a == "SAMPLE" ? Conversion.Fixture("sample.bam") : a)]);

        Assert.Equal(2, result.ExitCode);
        Assert.NotEmpty(result.Stderr);
    }

    [Fact]
    public void Help_Stats_DocumentsEveryOption()
    {
        var root = BamflowCli.Run("--help");
        var result = BamflowCli.Run("stats", "--help");

        Assert.Contains("stats", root.StdoutText, StringComparison.Ordinal);
        Assert.Equal(0, result.ExitCode);
        foreach (string option in (string[])["--json", "--extended", "--threads"])
        {
            Assert.Contains(option, result.StdoutText, StringComparison.Ordinal);
        }
    }

    private static void AssertSameAsSamtools(string path, string context)
    {
        foreach (string[] format in (string[][])[[], ["--json"]])
        {
            string[] samtoolsFormat = format.Length == 0 ? [] : ["-O", "json"];
            var result = BamflowCli.Run(["stats", .. format, path]);
            string label = $"{context} {string.Join(' ', format)}";

            Assert.True(result.ExitCode == 0, $"{label}: exit {result.ExitCode}: {result.Stderr}");
            Assert.True(result.Stderr.Length == 0, $"{label}: unexpected stderr: {result.Stderr}");
            StatsFiles.AssertSameText(StatsFiles.Samtools(context, ["flagstat", .. samtoolsFormat, path]), Encoding.UTF8.GetString(result.Stdout), label);
        }
    }
}
