using System.Text.Json;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>What a samtools user types: unknown options, -@ 0, numbers that are not, singular counts.</summary>
public sealed class CommandLineHabitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-habits-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("-x", "'-x'", "")]
    [InlineData("--thread", "'--thread'", "--threads")]
    public void Convert_UnknownDashOption_ExitsTwoNamingIt(string option, string named, string hint)
    {
        var result = BamflowCli.Run("convert", option);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"unknown option {named}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(hint, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not find", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_SamtoolsOutputFormatOption_ExitsTwoAndPointsToJson()
    {
        var result = BamflowCli.Run("stats", "-O", "json", Conversion.Fixture("sample.bam"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown option '-O'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--json", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("'json'", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-o", "--quiet")]
    [InlineData("--tags", "-x")]
    public void Convert_OptionValueLooksLikeAnOption_ExitsTwoAndWritesNothing(string option, string value)
    {
        string input = Path.Combine(_dir, "in.bam");
        File.Copy(Conversion.Fixture("sample.bam"), input);

        var result = BamflowCli.Run("convert", input, option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"'{option}' needs a value", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["in.bam"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        File.Delete(value); // where the unfixed command wrote it (the working directory)
    }

    [Fact]
    public void Convert_DashForStdinAndStdout_StaysValid()
    {
        var result = BamflowCli.Run(File.ReadAllBytes(Conversion.Fixture("sample.bam")), "convert", "-", "-o", "-", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(2023, ArrowSam.Lines(ArrowSam.ReadAll(result.Stdout, stream: true)).Count());
    }

    [Theory]
    [InlineData("-q", "abc", "MAPQ must be an integer 0–255")]
    [InlineData("-q", "300", "MAPQ must be an integer 0–255")]
    [InlineData("--limit", "ten", "must be an integer")]
    [InlineData("-@", "many", "must be an integer")]
    public void Convert_NotANumber_SaysWhatTheNumberIs(string option, string value, string expected)
    {
        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", Path.Combine(_dir, "out.arrow"), option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_ThreadsZero_RunsOnOneCoreAsSamtoolsDoes()
    {
        string json = Path.Combine(_dir, "summary.json");

        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", Path.Combine(_dir, "out.arrow"), "-@", "0", "--summary-json", json);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var summary = JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.Equal(1, summary.RootElement.GetProperty("threads").GetInt32());
        Assert.Contains("(1 thread,", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_ThreadsZero_PrintsWhatSamtoolsFlagstatPrints()
    {
        string input = Conversion.Fixture("sample.bam");

        var result = BamflowCli.Run("stats", input, "-@", "0");

        Assert.True(result.ExitCode == 0, result.Stderr);
        (int code, byte[] expected, string stderr) = Samtools.Run(null, "flagstat", "-@", "0", input);
        Assert.True(code == 0, stderr);
        Assert.Equal(Terminal.Lines(System.Text.Encoding.UTF8.GetString(expected)), Terminal.Lines(result.StdoutText));
    }

    [Fact]
    public void Convert_OneRecordOneBatchOneThread_SaysSo()
    {
        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", Path.Combine(_dir, "out.arrow"), "--limit", "1", "-@", "1", "--stats");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("bamflow: 1 record,", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(", 1 batch,", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("(1 thread,", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("1 chunk buffer and 1 batch at once", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_LogLines_UseThousandsSeparatorsAsTheSummaryDoes()
    {
        // stderr is not a terminal here: the log lines are what a user of a pipeline or a cluster job sees.
        var result = BamflowCli.Run("convert", SharedData.CorpusPath("hts-specs__level-9.bam"), "-o", Path.Combine(_dir, "out.arrow"), "--verbose");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("bamflow: 20,000 records", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Converted 20,000 records", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("20000", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_ListedTagNeverSeen_Warns()
    {
        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", Path.Combine(_dir, "out.arrow"), "--tags", "NM,MD,XX");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("warning: tag XX", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("mixed", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("tag NM", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("tag MD", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_Stats_NamesThePeakResidentSetAsGnuTimeMeasuresIt()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/time"), "GNU time is not installed");
        string json = Path.Combine(_dir, "summary.json");
        string timed = Path.Combine(_dir, "time.txt");

        // GNU time's %M: the maximum resident set size in KiB, from the kernel (the independent figure).
        var result = BamflowCli.RunProgram("/usr/bin/time", "-f", "%M", "-o", timed, "dotnet", BamflowCli.Dll, "convert", SharedData.CorpusPath("hts-specs__level-9.bam"), "-o", Path.Combine(_dir, "out.arrow"), "--stats", "--summary-json", json);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("resident (VmHWM)", result.Stderr, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllBytes(json));
        double reported = summary.RootElement.GetProperty("peak_process_bytes").GetInt64();
        double measured = long.Parse(File.ReadAllText(timed).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024.0;
        Assert.InRange(reported / measured, 0.8, 1.0001); // measured at the end of the run, before the process exits
    }
}
