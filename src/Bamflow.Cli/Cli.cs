using Bamflow.Arrow;
using Bamflow.Dataflow;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using ILogger = Microsoft.Extensions.Logging.ILogger;

namespace Bamflow.Cli;

/// <summary>Runs a command body and turns failures into messages and exit codes.</summary>
internal static class Cli
{
    public static int Run(Func<int> body) => RunAsync(() => Task.FromResult(body())).GetAwaiter().GetResult();

    /// <summary>
    /// Runs <paramref name="body"/>; a failure becomes one line on <paramref name="error"/> (standard error when null) and
    /// its exit code. With <paramref name="verbose"/> (<c>--verbose</c>), an internal error (an exception bamflow does not
    /// expect: a bug) is followed by its stack trace, for a bug report; the expected failures stay one line.
    /// </summary>
    public static async Task<int> RunAsync(Func<Task<int>> body, bool verbose = false, TextWriter? error = null)
    {
        TextWriter Error() => error ?? Console.Error; // looked up when needed: a closed stderr is replaced at start
        try
        {
            return await body();
        }
        catch (Exception e) when (BrokenPipeException.IsIn(e))
        {
            // The reader of the output went away (`| head`): stop quietly with SIGPIPE's status, as coreutils
            // and samtools do (.NET ignores SIGPIPE, so the write failed instead of killing the process).
            return ExitCodes.BrokenPipe;
        }
        catch (OperationCanceledException)
        {
            Error().WriteLine("bamflow: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (BamFormatException e)
        {
            Error().WriteLine($"bamflow: error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (ShardPlanException e)
        {
            Error().WriteLine($"bamflow: error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (UsageException e)
        {
            Error().WriteLine($"bamflow: {e.Message}");
            Error().WriteLine("Try 'bamflow --help' for more information.");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Error().WriteLine($"bamflow: error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (InsufficientMemoryException e)
        {
            Error().WriteLine($"bamflow: error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (OutOfMemoryException)
        {
            Error().WriteLine(AddressSpace.Limit is { } limit
                ? $"bamflow: error: out of memory under the virtual memory limit (ulimit -v) of {AddressSpace.Mebibytes(limit)}; raise it, or try fewer --threads"
                : "bamflow: error: out of memory; try fewer --threads or a smaller --batch-size");
            return ExitCodes.Failure;
        }
        catch (DllNotFoundException e)
        {
            Error().WriteLine($"bamflow: error: {NativeLibraries.Describe(e)}");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // Never a crash dump for the user: name the failure and its type (a bug to report), exit 1; the stack trace
            // only with --verbose.
            Error().WriteLine($"bamflow: internal error ({e.GetType().Name}): {e.Message}");
            if (verbose)
            {
                Error().WriteLine(e.ToString());
            }

            return ExitCodes.Failure;
        }
    }
}

/// <summary>A bad command line: exit code 2 and a pointer to --help.</summary>
internal sealed class UsageException(string message) : Exception(message)
{
    /// <summary>Runs option validation, turning its <see cref="ArgumentException"/> into a usage error.</summary>
    public static T Check<T>(Func<T> validate)
    {
        try
        {
            return validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message.Split(" (Parameter", 2)[0]);
        }
    }
}

/// <summary>Serilog's console sink on stderr, behind Microsoft.Extensions.Logging.</summary>
internal sealed class CliLogging : IDisposable
{
    private readonly ILoggerFactory _factory;
    private readonly Serilog.Core.Logger _serilog;

    private CliLogging(bool quiet, bool verbose)
    {
        LogEventLevel level = verbose ? LogEventLevel.Debug : quiet ? LogEventLevel.Warning : LogEventLevel.Information;
        _serilog = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .WriteTo.Console(
                outputTemplate: "bamflow: {Level:w}: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .CreateLogger();
        _factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddSerilog(_serilog));
        Logger = _factory.CreateLogger("bamflow");
    }

    public ILogger Logger { get; }

    public static CliLogging Create(bool quiet, bool verbose = false) => new(quiet, verbose);

    public void Dispose()
    {
        _factory.Dispose();
        _serilog.Dispose();
    }
}
