using System.Runtime.CompilerServices;
using Bamflow.Tests.Support;
using CliRunner = Bamflow.Cli.Cli;

namespace Bamflow.Tests.Cli;

/// <summary>
/// An internal error (an exception bamflow does not expect: a bug) is one line naming its type, exit 1; with
/// <c>--verbose</c> its stack trace follows, for a bug report. Expected failures stay one line either way.
/// </summary>
public sealed class InternalErrorTests
{
    [Fact]
    public async Task RunAsync_InternalErrorWithVerbose_PrintsItsStackTrace()
    {
        var error = new StringWriter();

        int code = await CliRunner.RunAsync(ThrowABug, verbose: true, error);

        string[] lines = Lines(error);
        Assert.Equal(1, code);
        Assert.Equal("bamflow: internal error (InvalidOperationException): a bug (injected)", lines[0]);
        Assert.Contains(lines, line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal) && line.Contains(nameof(ThrowABug), StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_InternalErrorWithoutVerbose_IsOneLine()
    {
        var error = new StringWriter();

        int code = await CliRunner.RunAsync(ThrowABug, verbose: false, error);

        Assert.Equal(1, code);
        Assert.Equal(["bamflow: internal error (InvalidOperationException): a bug (injected)"], Lines(error));
    }

    [Fact]
    public async Task RunAsync_ExpectedFailureWithVerbose_IsOneLine()
    {
        var error = new StringWriter();

        int code = await CliRunner.RunAsync(() => throw new IOException("No space left on device (injected)"), verbose: true, error);

        Assert.Equal(1, code);
        Assert.Equal(["bamflow: error: No space left on device (injected)"], Lines(error));
    }

    [Fact]
    public void ConvertHelp_Verbose_SaysWhatItPrints()
    {
        var result = BamflowCli.Run("convert", "--help");

        Assert.True(result.ExitCode == 0, result.Stderr);
        string line = result.StdoutText.Split('\n').Single(l => l.TrimStart().StartsWith("--verbose", StringComparison.Ordinal));
        Assert.Contains("stack trace", line, StringComparison.Ordinal);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Task<int> ThrowABug() => throw new InvalidOperationException("a bug (injected)");

    private static string[] Lines(StringWriter error) => error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
}
