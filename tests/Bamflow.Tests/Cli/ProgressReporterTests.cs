using Bamflow.Cli;

namespace Bamflow.Tests.Cli;

/// <summary>The progress line fits the terminal: a line as wide as the terminal wraps, and every refresh leaves a new one.</summary>
public sealed class ProgressReporterTests
{
    [Theory]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(60)]
    [InlineData(80)]
    [InlineData(120)]
    [InlineData(200)]
    public void FormatBar_AnyWidth_FillsAllButTheLastColumn(int width)
    {
        // A large run: long counts, a long ETA.
        string line = ProgressReporter.FormatBar(width, 123_456_789_012, 45_600_000_000, 98_700_000_000, 1_234_567, 3_000);

        Assert.Equal(width - 1, line.Length);
        if (width >= 40)
        {
            Assert.Contains("123,456,789,012 records", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void FormatBar_WideTerminal_ShowsEveryPart()
    {
        string line = ProgressReporter.FormatBar(120, 2023, 500_000, 1_000_000, 4000, 2);

        Assert.Matches(@"^\[#+\.+\]  50%  2,023 records  0\.5/1\.0 MB  4,000 rec/s  ETA 0:02 *$", line);
    }

    [Fact]
    public void FormatBar_NarrowTerminal_LeavesOutTheLeastUsefulFirst()
    {
        string line = ProgressReporter.FormatBar(40, 2023, 500_000, 1_000_000, 4000, 2);

        Assert.Equal(" 50%  2,023 records  4,000 rec/s", line.TrimEnd());
    }

    [Fact]
    public void FormatBar_OneRecord_IsSingular()
    {
        Assert.StartsWith("1 record  ", ProgressReporter.FormatBar(80, 1, 100, null, 1, 1), StringComparison.Ordinal);
    }
}
