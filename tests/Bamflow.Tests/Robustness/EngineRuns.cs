using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Microsoft.Extensions.Logging;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// Reads one input every way there is — <see cref="BamReader"/> directly, the sequential engine, the parallel engine
/// with 1 and 3 threads — each under a deadline, and reports how each run ended.
/// </summary>
internal static class EngineRuns
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>The four ways, by name.</summary>
    public static readonly string[] Names = ["reader", "sequential", "parallel@1", "parallel@3"];

    /// <summary>Runs <paramref name="path"/> through every way and returns the outcomes in <see cref="Names"/> order.</summary>
    public static async Task<Outcome[]> AllAsync(string path, BgzfInflaterKind inflater = BgzfInflaterKind.Auto)
    {
        return
        [
            await ReadAsync(path, inflater),
            await ConvertAsync(path, new PipelineOptions { Sequential = true, Inflater = inflater }),
            await ConvertAsync(path, new PipelineOptions { Threads = 1, Inflater = inflater }),
            await ConvertAsync(path, new PipelineOptions { Threads = 3, Inflater = inflater }),
        ];
    }

    /// <summary>Reads every record with <see cref="BamReader.TryRead"/> (on a worker, so a hang cannot block the test).</summary>
    public static async Task<Outcome> ReadAsync(string path, BgzfInflaterKind inflater = BgzfInflaterKind.Auto)
    {
        var log = new WarningLog();
        Task<Outcome> run = Task.Run(() =>
        {
            long records = 0;
            try
            {
                using IBgzfInflater backend = BgzfInflater.Create(inflater);
                using BamReader reader = BamReader.Open(path, log, backend);
                while (reader.TryRead(out _))
                {
                    records++;
                }

                return new Outcome(records, reader.MissingEofMarker, log.EofWarnings, null, null);
            }
            catch (Exception e)
            {
                return new Outcome(records, false, log.EofWarnings, e, null);
            }
        });
        return await WithDeadline(run, $"BamReader over {path}");
    }

    /// <summary>Converts with the engine into an in-memory Arrow IPC file.</summary>
    public static Task<Outcome> ConvertAsync(string path, PipelineOptions options, ConversionOptions? conversion = null) =>
        ConvertAsync(path, (log, backend) => BamReader.Open(path, log, backend), options, conversion);

    /// <summary>Converts what <paramref name="open"/> reads (a pipe-like stream, say) with the engine into an in-memory Arrow IPC file.</summary>
    public static async Task<Outcome> ConvertAsync(string name, Func<ILogger, IBgzfInflater, BamReader> open, PipelineOptions options, ConversionOptions? conversion = null)
    {
        var log = new WarningLog();
        Task<Outcome> run = Task.Run(async () =>
        {
            try
            {
                using IBgzfInflater backend = BgzfInflater.Create(options.Inflater);
                using BamReader reader = open(log, backend);
                var output = new MemoryStream();
                ConversionSummary summary;
                await using (var sink = new ArrowIpcSink(output, ArrowIpcFormat.File))
                {
                    var engine = new BamArrowPipeline(conversion ?? new() { BatchSize = 500 }, options, log);
                    summary = await engine.RunAsync(reader, sink);
                }

                return new Outcome(summary.Records, summary.MissingEofMarker, log.EofWarnings, null, output.ToArray());
            }
            catch (Exception e)
            {
                return new Outcome(0, false, log.EofWarnings, e, null);
            }
        });
        return await WithDeadline(run, $"engine {options} over {name}");
    }

    private static async Task<Outcome> WithDeadline(Task<Outcome> run, string what)
    {
        try
        {
            return await run.WaitAsync(Deadline, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{what} did not finish within {Deadline.TotalSeconds} s (hang)");
            throw;
        }
    }

    /// <summary>How a run ended: records and the EOF-marker warning, or the exception.</summary>
    public sealed record Outcome(long Records, bool MissingEofMarker, int EofWarnings, Exception? Error, byte[]? Ipc)
    {
        /// <summary>What must agree between the ways: success with a record count, or the exception type and error code.</summary>
        public string Key => Error switch
        {
            null => $"ok: {Records} records, missing EOF {MissingEofMarker}",
            BgzfFormatException e => $"{nameof(BgzfFormatException)}.{e.Error} @ {e.CompressedOffset}",
            BamHeaderFormatException e => $"{nameof(BamHeaderFormatException)}.{e.Field} @ {e.CompressedOffset}",
            BamRecordFormatException e => $"{nameof(BamRecordFormatException)}.{e.Error} ({e.Field}) record {e.RecordIndex} @ {e.Position}",
            _ => $"{Error.GetType().FullName}: {Error.Message}",
        };

        /// <summary>A typed format error naming <paramref name="path"/> and a compressed offset inside <paramref name="fileLength"/>.</summary>
        public void AssertTypedError(string path, long fileLength, string context)
        {
            Assert.True(Error is BgzfFormatException or BamHeaderFormatException or BamRecordFormatException, $"{context}: expected a typed BamFormatException, got {Error?.GetType().FullName ?? "success"}: {Error}");
            var format = (BamFormatException)Error!;
            Assert.True(format.FileName == path, $"{context}: FileName is {format.FileName}");
            Assert.True(format.CompressedOffset is { } offset && offset >= 0 && offset <= fileLength, $"{context}: CompressedOffset {format.CompressedOffset} is outside the file's {fileLength} bytes");
        }
    }

    /// <summary>Counts the "EOF marker is absent" warnings (the reader's in the sequential path, the engine's in the parallel one).</summary>
    private sealed class WarningLog : ILogger
    {
        private int _eofWarnings;

        public int EofWarnings => Volatile.Read(ref _eofWarnings);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && formatter(state, exception).Contains("EOF marker is absent", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _eofWarnings);
            }
        }
    }
}
