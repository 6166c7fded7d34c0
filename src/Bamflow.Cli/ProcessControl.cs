using System.Runtime.InteropServices;

namespace Bamflow.Cli;

/// <summary>
/// Signals and the end of the process. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 all stop a run the
/// same way: the command is cancelled, its temporary files are deleted, and the process exits with 128 + the
/// signal's number. A write blocked in a stalled pipe cannot be cancelled, so if the command has not ended a
/// short grace period after the signal, the registered cleanups run and the process exits at once.
/// </summary>
internal static partial class ProcessControl
{
    /// <summary>How long a stopped command gets to end by itself before the process exits anyway.</summary>
    private static readonly TimeSpan s_grace = TimeSpan.FromMilliseconds(700);

    private static readonly CancellationTokenSource s_stop = new();
    private static readonly List<Action> s_cleanups = [];
    private static int s_exitCode;

    /// <summary>Cancelled when a signal asks the process to stop.</summary>
    public static CancellationToken Stopping => s_stop.Token;

    /// <summary>128 + the signal that stopped the process, or 0.</summary>
    public static int SignalExitCode => Volatile.Read(ref s_exitCode);

    /// <summary>Handles the stopping signals until disposed.</summary>
    public static IDisposable HandleSignals()
    {
        bool mac = OperatingSystem.IsMacOS();
        (PosixSignal Signal, int Number)[] signals =
        [
            (PosixSignal.SIGINT, 2),
            (PosixSignal.SIGTERM, 15),
            (PosixSignal.SIGHUP, 1),
            (PosixSignal.SIGQUIT, 3),
            ((PosixSignal)(mac ? 30 : 10), mac ? 30 : 10), // SIGUSR1: raw numbers are accepted on Unix
            ((PosixSignal)(mac ? 31 : 12), mac ? 31 : 12), // SIGUSR2
        ];
        var registrations = new List<PosixSignalRegistration>();
        foreach ((PosixSignal signal, int number) in signals)
        {
            if (OperatingSystem.IsWindows() && number is not (2 or 15 or 3 or 1))
            {
                continue;
            }

            int exitCode = 128 + number;
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // the command stops and cleans up; Stop ends the process if it cannot
                Stop(exitCode);
            }));
        }

        return new Registrations(registrations);
    }

    /// <summary>Stops the process with <paramref name="exitCode"/> (the first call wins).</summary>
    public static void Stop(int exitCode)
    {
        if (Interlocked.CompareExchange(ref s_exitCode, exitCode, 0) != 0)
        {
            return;
        }

        new Thread(ExitAfterGrace) { IsBackground = true, Name = "bamflow exit" }.Start();
        s_stop.Cancel();
    }

    /// <summary>Runs <paramref name="cleanup"/> (which must not block) if the process has to exit before the command ends.</summary>
    public static IDisposable OnForcedExit(Action cleanup)
    {
        lock (s_cleanups)
        {
            s_cleanups.Add(cleanup);
        }

        return new Unregister(cleanup);
    }

    private static void ExitAfterGrace()
    {
        Thread.Sleep(s_grace);
        Action[] cleanups;
        lock (s_cleanups)
        {
            cleanups = [.. s_cleanups];
        }

        foreach (Action cleanup in cleanups)
        {
            try
            {
                cleanup();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or AggregateException)
            {
                // Exiting anyway.
            }
        }

        int code = SignalExitCode;
        if (OperatingSystem.IsWindows())
        {
            Environment.Exit(code);
        }

        // _exit(2): no managed shutdown, which could wait on the very write that is stuck.
        Exit(code);
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void Exit(int status);

    private sealed class Registrations(List<PosixSignalRegistration> registrations) : IDisposable
    {
        public void Dispose() => registrations.ForEach(r => r.Dispose());
    }

    private sealed class Unregister(Action cleanup) : IDisposable
    {
        public void Dispose()
        {
            lock (s_cleanups)
            {
                s_cleanups.Remove(cleanup);
            }
        }
    }
}
