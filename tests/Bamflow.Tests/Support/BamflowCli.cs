using System.Diagnostics;
using System.Text;

namespace Bamflow.Tests.Support;

/// <summary>Runs the real <c>bamflow</c> executable (built with the tests) as a separate process.</summary>
public static class BamflowCli
{
    /// <summary>The built bamflow.dll, from the same configuration as the tests.</summary>
    public static string Dll
    {
        get
        {
            string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            string dll = Path.Combine(SharedData.RepositoryRoot, "src", "Bamflow.Cli", "bin", configuration, "net10.0", "bamflow.dll");
            Assert.True(File.Exists(dll), $"bamflow is not built at {dll}");
            return dll;
        }
    }

    /// <summary>Starts bamflow with <paramref name="arguments"/> (stdin, stdout, stderr redirected).</summary>
    public static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("CI"); // the CLI's behaviour must not depend on it
        return Process.Start(info)!;
    }

    /// <summary>The outcome of a run.</summary>
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string StdoutText => Encoding.UTF8.GetString(Stdout);
    }

    /// <summary>Runs bamflow to completion (60 s at most), feeding <paramref name="stdin"/>.</summary>
    public static Result Run(byte[]? stdin, params string[] arguments)
    {
        using Process process = Start(arguments);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        var stdout = new MemoryStream();
        Task copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        try
        {
            if (stdin is not null)
            {
                process.StandardInput.BaseStream.Write(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // bamflow stopped reading (e.g. it failed early): its exit code tells.
        }

        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"bamflow {string.Join(' ', arguments)} did not finish within 60 s");
        }

        copy.Wait();
        return new Result(process.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>Runs bamflow with no stdin.</summary>
    public static Result Run(params string[] arguments) => Run(null, arguments);
}
