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
    private int _width = 80;

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
        double elapsed = (DateTime.UtcNow - _started).TotalSeconds;
        _width = TerminalWidth();
        Console.Error.Write("\r" + FormatBar(_width, _progress.RecordsWritten, _progress.CompressedBytesRead, _progress.TotalBytes, Rate(), elapsed));
        _drawn = true;
    }

    /// <summary>The terminal's columns (stderr's), re-read at each refresh so a resize is followed; 80 when unknown.</summary>
    private static int TerminalWidth()
    {
        try
        {
            if (Console.WindowWidth > 0)
            {
                return Console.WindowWidth;
            }
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException)
        {
            // not a terminal after all
        }

        return int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out int columns) && columns > 0 ? columns : 80;
    }

    /// <summary>
    /// One refresh of the bar for a terminal <paramref name="width"/> columns wide: at most width - 1 characters (a
    /// line that fills the last column wraps on many terminals), padded with spaces to that length so it covers the
    /// line before. What does not fit goes, least useful first: the bar narrows (below 10 columns it is left out),
    /// then the sizes, the ETA and the rate go; the percentage and the record count stay.
    /// </summary>
    internal static string FormatBar(int width, long records, long bytesRead, long? totalBytes, double rate, double elapsedSeconds)
    {
        int room = Math.Max(1, width - 1);
        var culture = CultureInfo.InvariantCulture;
        string count = string.Create(culture, $"{records:N0} {(records == 1 ? "record" : "records")}");
        string speed = string.Create(culture, $"{rate:N0} rec/s");
        string? percent = null, eta = null, sizes;
        double fraction = 0;
        if (totalBytes is > 0)
        {
            fraction = Math.Clamp((double)bytesRead / totalBytes.Value, 0, 1);
            percent = string.Create(culture, $"{fraction * 100,3:F0}%");
            if (fraction > 0.01)
            {
                eta = string.Create(culture, $"ETA {TimeSpan.FromSeconds(elapsedSeconds / fraction - elapsedSeconds):m\\:ss}");
            }

            sizes = string.Create(culture, $"{Megabytes(bytesRead):F1}/{Megabytes(totalBytes.Value):F1} MB");
        }
        else
        {
            sizes = string.Create(culture, $"{Megabytes(bytesRead):F1} MB read");
        }

        // Leave parts out, least useful first, until the line fits.
        string?[] parts = [count, sizes, speed, eta];
        string line = Compose(parts, percent, fraction, room);
        foreach (int drop in (int[])[1, 3, 2])
        {
            if (line.Length <= room)
            {
                break;
            }

            parts[drop] = null;
            line = Compose(parts, percent, fraction, room);
        }

        return line.Length >= room ? line[..room] : line.PadRight(room);
    }

    /// <summary>"[####......]  42%  1,234 records  12.3/45.6 MB  1,000 rec/s  ETA 0:12": the bar as wide as the room left (10 to 30), or none.</summary>
    private static string Compose(string?[] parts, string? percent, double fraction, int room)
    {
        string rest = string.Join("  ", parts.Where(p => p is not null));
        if (percent is null)
        {
            return rest;
        }

        string withPercent = $"{percent}  {rest}";
        int barWidth = Math.Min(30, room - withPercent.Length - 3); // "[", "]" and a space
        if (barWidth < 10)
        {
            return withPercent;
        }

        int filled = (int)(fraction * barWidth);
        return $"[{new string('#', filled)}{new string('.', barWidth - filled)}] {withPercent}";
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
            Console.Error.Write("\r" + new string(' ', Math.Max(0, _width - 1)) + "\r");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Records:N0} records written, {Megabytes:F1} MB read, {Rate:N0} records/s")]
    private static partial void LogProgress(ILogger logger, long records, double megabytes, double rate);
}
