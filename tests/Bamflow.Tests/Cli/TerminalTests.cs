using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>bamflow at a terminal (a pseudo-terminal from util-linux <c>script</c>): the progress line and binary output.</summary>
public sealed class TerminalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-tty-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(60)]
    [InlineData(80)]
    [InlineData(120)]
    public void Convert_ProgressOnTerminal_EveryRefreshFitsTheWidth(int columns)
    {
        Assert.SkipUnless(Terminal.Available, "util-linux script is not installed");
        // 450,000 records on one core: a few seconds, several refreshes of the bar (every 250 ms).
        string input = SharedData.CorpusPath("hmftools__pseudo_ig_regions.sorted.bam");

        (int code, string screen) = Terminal.Run(columns, "convert", input, "-o", Path.Combine(_dir, "out.arrow"), "-@", "1");

        Assert.True(code == 0, screen);
        string[] bars = [.. Terminal.Lines(screen).Where(line => line.Contains("rec/s", StringComparison.Ordinal))];
        Assert.NotEmpty(bars);
        foreach (string bar in bars)
        {
            Assert.True(bar.Length < columns, $"a {bar.Length}-character progress line on a {columns}-column terminal: '{bar}'");
        }
    }

    [Fact]
    public void Convert_StdoutIsTerminal_RefusesWithAHintAndWritesNothing()
    {
        Assert.SkipUnless(Terminal.Available, "util-linux script is not installed");

        (int code, string screen) = Terminal.Run(80, "convert", Conversion.Fixture("sample.bam"), "-o", "-");

        Assert.Equal(2, code);
        Assert.Contains("terminal", screen, StringComparison.Ordinal);
        Assert.Contains("-o FILE", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("pair0", screen, StringComparison.Ordinal); // no record names: no Arrow data
    }

    [Fact]
    public void Convert_StdoutIsTerminalWithForce_Writes()
    {
        Assert.SkipUnless(Terminal.Available, "util-linux script is not installed");

        (int code, string screen) = Terminal.Run(80, "convert", Conversion.Fixture("sample.bam"), "-o", "-", "--force", "--quiet");

        Assert.Equal(0, code);
        Assert.Contains("pair0", screen, StringComparison.Ordinal);
    }
}
