using System.Diagnostics;
using System.Text;

namespace Bamflow.Tests.Support;

/// <summary>Runs the real <c>bamflow</c> executable (built with the tests) as a separate process.</summary>
public static class BamflowCli
{
    /// <summary>The built bamflow.dll, from the same configuration as the tests.</summary>
    public static string Dll => Built(Path.Combine("src", "Bamflow.Cli"), "bamflow.dll");

    /// <summary>The build configuration of the tests, and so of the programs they run: Debug or Release.</summary>
    public static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>A program of the solution built with the tests (same configuration): its project folder and dll name.</summary>
    public static string Built(string projectFolder, string dllName)
    {
        string dll = Path.Combine(SharedData.RepositoryRoot, projectFolder, "bin", Configuration, "net10.0", dllName);
        Assert.True(File.Exists(dll), $"{dllName} is not built at {dll}");
        return dll;
    }

    /// <summary>Starts bamflow with <paramref name="arguments"/> (stdin, stdout, stderr redirected).</summary>
    public static Process Start(params string[] arguments) => StartDll(Dll, arguments);

    /// <summary>Runs another program of the solution (a sample) to completion, like <see cref="Run(byte[], string[])"/>.</summary>
    public static Result RunDll(string dll, params string[] arguments) => Run(StartDll(dll, arguments), null);

    /// <summary>Runs bamflow to completion with these environment variables set (e.g. a GC heap limit), feeding <paramref name="stdin"/>.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string> environment, byte[]? stdin, params string[] arguments) => Run(StartDll(Dll, arguments, environment: environment), stdin);

    /// <summary>Runs bamflow to completion in <paramref name="directory"/> (relative paths resolve there).</summary>
    public static Result RunInDirectory(string directory, params string[] arguments) => Run(StartDll(Dll, arguments, directory: directory), null);

    /// <summary>
    /// Runs bamflow to completion under a virtual memory limit (<c>ulimit -v <paramref name="limitKib"/></c>, as
    /// Slurm and SGE set it), with <paramref name="environment"/> added to its environment.
    /// </summary>
    public static Result RunUnderMemoryLimit(long limitKib, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        return Run(StartDll(Dll, arguments, limitKib, environment), null);
    }

    /// <summary>
    /// Runs any program (an installed bamflow, the dotnet CLI) to completion in <paramref name="workingDirectory"/>,
    /// <paramref name="timeoutSeconds"/> at most, with the same environment rules as bamflow's own runs.
    /// </summary>
    public static Result RunProgram(string program, string workingDirectory, int timeoutSeconds, params string[] arguments)
    {
        ProcessStartInfo info = StartInfo(program);
        info.WorkingDirectory = workingDirectory;
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Run(Process.Start(info)!, null, timeoutSeconds);
    }

    /// <summary>Runs any program (bamflow under a wrapper such as /usr/bin/time) to completion, like <see cref="Run(byte[], string[])"/>.</summary>
    public static Result RunProgram(string program, params string[] arguments) =>
        RunProgram(program, Environment.CurrentDirectory, 60, arguments);

    private static ProcessStartInfo StartInfo(string program)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment.Remove("CI"); // the CLI's behaviour must not depend on it
        return info;
    }

    private static Process StartDll(string dll, string[] arguments, long? limitKib = null, IReadOnlyDictionary<string, string>? environment = null, string? directory = null)
    {
        ProcessStartInfo info = StartInfo(limitKib is null ? "dotnet" : "bash");
        info.WorkingDirectory = directory ?? "";
        if (limitKib is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"ulimit -v {limitKib} && exec dotnet \"$@\"");
            info.ArgumentList.Add("bamflow");
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
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

    private static Result Run(Process started, byte[]? stdin, int timeoutSeconds = 60)
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

        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{process.StartInfo.FileName} {string.Join(' ', process.StartInfo.ArgumentList)} did not finish within {timeoutSeconds} s");
        }

        copy.Wait();
        return new Result(process.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>
    /// Runs bamflow under /bin/sh with <paramref name="redirections"/> after the command (e.g. <c>&gt;&amp;-</c> to start
    /// it with stdout closed); what is not redirected there is captured as by <see cref="Run(string[])"/>.
    /// </summary>
    public static Result RunWithRedirections(string redirections, params string[] arguments) => Run(StartWithRedirections(redirections, arguments), null);

    /// <summary>Starts bamflow as <see cref="RunWithRedirections"/> does (the shell execs it: the process is bamflow's).</summary>
    public static Process StartWithRedirections(string redirections, params string[] arguments)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"exec dotnet \"$@\" {redirections}");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(Dll);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("CI");
        return Process.Start(info)!;
    }

    /// <summary>Sends <paramref name="signal"/> (a name: TERM, HUP, …) to <paramref name="process"/> with kill(1).</summary>
    public static void Signal(Process process, string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for <paramref name="process"/> to exit (killing it after <paramref name="limit"/>) and returns how long it took.</summary>
    public static TimeSpan WaitForExit(Process process, TimeSpan limit, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        bool exited = process.WaitForExit(limit);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        Assert.True(exited, $"bamflow did not exit within {limit.TotalSeconds:F0} s after {what}");
        return stopwatch.Elapsed;
    }

    /// <summary>Runs bamflow with no stdin.</summary>
    public static Result Run(params string[] arguments) => Run(null, arguments);
}
