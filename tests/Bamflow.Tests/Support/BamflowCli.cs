using System.Diagnostics;
using System.Text;

namespace Bamflow.Tests.Support;

/// <summary>Runs the real <c>bamflow</c> executable (built with the tests) as a separate process.</summary>
public static class BamflowCli
{
    /// <summary>The built bamflow.dll, from the same configuration as the tests.</summary>
    public static string Dll => Built(Path.Combine("src", "Bamflow.Cli"), "bamflow.dll");

    /// <summary>A program of the solution built with the tests (same configuration): its project folder and dll name.</summary>
    public static string Built(string projectFolder, string dllName)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        string dll = Path.Combine(SharedData.RepositoryRoot, projectFolder, "bin", configuration, "net10.0", dllName);
        Assert.True(File.Exists(dll), $"{dllName} is not built at {dll}");
        return dll;
    }

    /// <summary>Starts bamflow with <paramref name="arguments"/> (stdin, stdout, stderr redirected).</summary>
    public static Process Start(params string[] arguments) => StartDll(Dll, arguments);

    /// <summary>Runs bamflow to completion with these environment variables set (e.g. a GC heap limit), feeding <paramref name="stdin"/>.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string> environment, byte[]? stdin, params string[] arguments) => Run(StartDll(Dll, arguments, environment), stdin);

    /// <summary>Runs another program of the solution (a sample) to completion, like <see cref="Run(byte[], string[])"/>.</summary>
    public static Result RunDll(string dll, params string[] arguments) => Run(StartDll(dll, arguments), null);

    private static Process StartDll(string dll, string[] arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("CI"); // the CLI's behaviour must not depend on it
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info)!;
    }

    /// <summary>The outcome of a run.</summary>
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string StdoutText => Encoding.UTF8.GetString(Stdout);
    }

    /// <summary>Runs bamflow to completion (60 s at most), feeding <paramref name="stdin"/>.</summary>
    public static Result Run(byte[]? stdin, params string[] arguments) => Run(Start(arguments), stdin);

    private static Result Run(Process started, byte[]? stdin)
    {
        using Process process = started;
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
            Assert.Fail($"{process.StartInfo.FileName} {string.Join(' ', process.StartInfo.ArgumentList)} did not finish within 60 s");
        }

        copy.Wait();
        return new Result(process.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>Runs bamflow with no stdin.</summary>
    public static Result Run(params string[] arguments) => Run(null, arguments);
}
