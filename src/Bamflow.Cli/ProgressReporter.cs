using System.Globalization;
using Bamflow.Dataflow;
using Microsoft.Extensions.Logging;

namespace Bamflow.Cli;

/// <summary>
/// Shows a run's progress: a live bar on a terminal (records, MB read of total, records/s, ETA), or a log line
/// every few seconds when stderr is not a terminal. Reads the engine's counters on a timer; never blocks it.
/// </summary>
internal sealed partial class ProgressReporter : IAsyncDisposable
{
    private static readonly TimeSpan s_barInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_logInterval = TimeSpan.FromSeconds(10);

    private readonly ConversionProgress _progress;
    private readonly ILogger _logger;
    private readonly bool _terminal;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly DateTime _started = DateTime.UtcNow;
    private bool _drawn;

    public ProgressReporter(ConversionProgress progress, ILogger logger, bool enabled)
    {
        _progress = progress;
        _logger = logger;
        _terminal = !Console.IsErrorRedirected;
        _loop = enabled ? Task.Run(LoopAsync) : Task.CompletedTask;
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_terminal ? s_barInterval : s_logInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (_terminal)
                {
                    Draw();
                }
                else
                {
                    LogProgress(_logger, _progress.RecordsWritten, Megabytes(_progress.CompressedBytesRead), Rate());
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private void Draw()
    {
        long records = _progress.RecordsWritten;
        long read = _progress.CompressedBytesRead;
        long? total = _progress.TotalBytes;
        const int width = 24;
        string bar;
        string eta = "";
        if (total is > 0)
        {
            double fraction = Math.Clamp((double)read / total.Value, 0, 1);
            int filled = (int)(fraction * width);
            bar = $"[{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,3:F0}%";
            double elapsed = (DateTime.UtcNow - _started).TotalSeconds;
            if (fraction > 0.01)
            {
                eta = $"  ETA {TimeSpan.FromSeconds(elapsed / fraction - elapsed):m\\:ss}";
            }
        }
        else
        {
            bar = "[reading]";
        }

        string sizes = total is > 0 ? $"{Megabytes(read):F1}/{Megabytes(total.Value):F1} MB" : $"{Megabytes(read):F1} MB";
        string line = string.Create(CultureInfo.InvariantCulture, $"\r{bar} {records:N0} records  {sizes}  {Rate():N0} rec/s{eta}   ");
        Console.Error.Write(line);
        _drawn = true;
    }

    private double Rate()
    {
        double seconds = (DateTime.UtcNow - _started).TotalSeconds;
        return seconds > 0 ? _progress.RecordsWritten / seconds : 0;
    }

    private static double Megabytes(long bytes) => bytes / 1e6;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        if (_drawn)
        {
            Console.Error.Write("\r" + new string(' ', Math.Max(0, Console.IsErrorRedirected ? 0 : Math.Min(Console.BufferWidth - 1, 120))) + "\r");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Records} records written, {Megabytes:F1} MB read, {Rate:F0} records/s")]
    private static partial void LogProgress(ILogger logger, long records, double megabytes, double rate);
}
