using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Bamflow.Tests.Support;

/// <summary>Runs bamflow on a pseudo-terminal of a given width (util-linux <c>script</c>), as a user at a terminal runs it.</summary>
public static partial class Terminal
{
    /// <summary>Whether <c>script</c> is installed (util-linux; CI installs it).</summary>
    public static bool Available => File.Exists("/usr/bin/script");

    /// <summary>Runs bamflow with stdout and stderr on a terminal <paramref name="columns"/> wide; returns its exit code and what the terminal showed (escape sequences removed).</summary>
    public static (int ExitCode, string Screen) Run(int columns, params string[] arguments)
    {
        string command = $"stty cols {columns} rows 24; exec dotnet {Quote(BamflowCli.Dll)} {string.Join(' ', arguments.Select(Quote))}";
        var info = new ProcessStartInfo("script")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])["-q", "-e", "-c", command, "/dev/null"])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("CI");
        info.Environment.Remove("COLUMNS");
        using Process process = Process.Start(info)!;
        Task<string> screen = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Close();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"bamflow {string.Join(' ', arguments)} on a terminal did not finish within 60 s");
        }

        return (process.ExitCode, Escapes().Replace(screen.Result, ""));
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|[=>])")]
    private static partial Regex Escapes();

    /// <summary>The lines the terminal showed, split where a carriage return or a line feed starts a new one.</summary>
    public static string[] Lines(string screen) => screen.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries);
}
