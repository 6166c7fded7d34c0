using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Microsoft.Extensions.Logging;

namespace Bamflow.Cli;

/// <summary><c>bamflow convert IN.bam [-o OUT]</c>: the conversion.</summary>
internal static partial class ConvertCommand
{
    public static Command Create()
    {
        var input = Commands.Input();
        var output = new Option<string>("--output", "-o")
        {
            Description = "Where to write: a file ('.arrow'/'.feather' = IPC file, '.arrows' = IPC stream), or '-' for an IPC stream on stdout. Default: the input name with '.arrow'.",
            HelpName = "FILE",
        };
        var format = new Option<string>("--format")
        {
            Description = "arrow (IPC file) or arrow-stream (IPC stream). Default: from the output's extension.",
            HelpName = "arrow|arrow-stream",
        };
        format.AcceptOnlyFromAmong("arrow", "arrow-stream");
        var threads = new Option<int>("--threads", "-@")
        {
            Description = "Cores to use: inflate, chunking, conversion and writing share N worker threads. Default: every core.",
            DefaultValueFactory = _ => Environment.ProcessorCount,
            HelpName = "N",
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Records per Arrow record batch (a batch also ends at 16 MiB of BAM data, about 45,000 short reads).",
            DefaultValueFactory = _ => ConversionOptions.DefaultBatchSize,
            HelpName = "N",
        };
        var limit = new Option<long?>("--limit") { Description = "Convert only the first N records.", HelpName = "N" };
        var tags = Commands.Tags();
        var tagScan = Commands.TagScan();
        var noSeq = Commands.NoSeq();
        var noQual = Commands.NoQual();
        var compression = new Option<string>("--compression")
        {
            Description = "Arrow IPC body compression. 'none' is readable by every Arrow implementation.",
            DefaultValueFactory = _ => "none",
            HelpName = "none|lz4|zstd",
        };
        compression.AcceptOnlyFromAmong("none", "lz4", "zstd");
        var sequential = new Option<bool>("--sequential") { Description = "Run the single-threaded baseline path (no parallel blocks)." };
        var inflater = Commands.Inflater();
        var quiet = new Option<bool>("--quiet") { Description = "No progress and no summary (warnings and errors are still shown)." };
        var verbose = new Option<bool>("--verbose") { Description = "Debug logging." };
        var summaryJson = new Option<string>("--summary-json") { Description = "Also write the summary as JSON to FILE.", HelpName = "FILE" };
        var stats = new Option<bool>("--stats") { Description = "After the summary, print each stage's items, busy time and utilisation, the reader's wait on backpressure and peak memory." };

        var command = new Command("convert", "Convert a BAM file to Apache Arrow IPC.")
        {
            input, output, format, threads, batchSize, limit, tags, tagScan, noSeq, noQual, compression, sequential, inflater, quiet, verbose, summaryJson,
        };
        command.Add(stats);
        var filters = new FilterOptions();
        foreach (Option option in filters.All)
        {
            command.Add(option);
        }

        command.SetAction((parse, cancellationToken) => Cli.RunAsync(async () =>
        {
            // The work runs on its own so that a signal ends the command at once, even while the reader is blocked
            // in a read of a pipe that no token can interrupt: the output is aborted from here and the process exits.
            var started = new TaskCompletionSource<OutputTarget>(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<int> work = Task.Run(() => RunAsync(parse, started, cancellationToken), CancellationToken.None);
            try
            {
                return await work.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                if (started.Task.IsCompletedSuccessfully)
                {
                    await started.Task.Result.AbortAsync();
                }

                throw;
            }
        }));
        return command;

        async Task<int> RunAsync(ParseResult parse, TaskCompletionSource<OutputTarget> started, CancellationToken cancellationToken)
        {
            var conversion = UsageException.Check(() => Commands.BuildConversionOptions(parse, tags, tagScan, noSeq, noQual, parse.GetValue(batchSize)));
            var pipeline = UsageException.Check(() =>
            {
                var options = new PipelineOptions
                {
                    Threads = parse.GetValue(threads),
                    Limit = parse.GetValue(limit),
                    Sequential = parse.GetValue(sequential),
                    Inflater = parse.GetValue(inflater),
                };
                options.Validate();
                return options;
            });
            string inputPath = parse.GetValue(input)!;
            string outputPath = parse.GetValue(output) ?? DefaultOutput(inputPath);
            ArrowIpcFormat ipcFormat = ResolveFormat(parse.GetValue(format), outputPath);
            IpcCompression ipcCompression = Enum.Parse<IpcCompression>(parse.GetValue(compression)!, ignoreCase: true);
            bool isQuiet = parse.GetValue(quiet);

            using CliLogging logging = CliLogging.Create(isQuiet, parse.GetValue(verbose));
            ILogger logger = logging.Logger;
            if (pipeline.Threads > Environment.ProcessorCount && !pipeline.Sequential)
            {
                LogThreadNotice(logger, pipeline.Threads, Environment.ProcessorCount);
            }

            using IBgzfInflater inflaterInstance = BgzfInflater.Create(parse.GetValue(inflater));
            using BamReader reader = BamReader.Open(inputPath, logger, inflaterInstance);
            BamArrowPipeline engine = filters.Apply(parse, new BamArrowPipeline(conversion, pipeline, logger), reader.Header);
            using SchemaPlan plan = await engine.PlanAsync(reader, cancellationToken);

            var progress = new ConversionProgress { TotalBytes = Commands.InputSize(inputPath) };
            await using OutputTarget target = OutputTarget.Open(outputPath);
            started.TrySetResult(target);
            ConversionSummary summary;
            await using (var reporter = new ProgressReporter(progress, logger, enabled: !isQuiet))
            {
                await using var sink = new ArrowIpcSink(target.Stream, ipcFormat, ipcCompression);
                summary = await engine.RunAsync(plan, sink, progress, cancellationToken);
            }

            await target.CommitAsync(cancellationToken);
            if (!isQuiet)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bamflow: {summary.Records:N0} records{(summary.RecordsRead != summary.Records ? $" (of {summary.RecordsRead:N0} read; the filters dropped the rest)" : "")}, {summary.Batches:N0} batches, {summary.Elapsed.TotalSeconds:F2} s, {summary.RecordsPerSecond:N0} records/s, {Size(target.BytesWritten)} written to {outputPath} ({(summary.Sequential ? "sequential" : $"{summary.Threads} threads")}, {inflaterInstance.Name})"));
            }

            if (parse.GetValue(stats))
            {
                Console.Error.Write(RunStatistics.Format(summary));
            }

            if (parse.GetValue(summaryJson) is { } jsonPath)
            {
                WriteSummaryJson(jsonPath, inputPath, outputPath, ipcFormat, summary, target.BytesWritten, inflaterInstance.Name);
            }

            return ExitCodes.Success;
        }
    }

    private static string DefaultOutput(string input)
    {
        if (input == "-")
        {
            throw new UsageException("reading standard input needs -o (use '-o -' to write an IPC stream to stdout)");
        }

        return Path.ChangeExtension(input, ".arrow");
    }

    private static ArrowIpcFormat ResolveFormat(string? format, string output) => format switch
    {
        "arrow" when output == "-" => throw new UsageException("the IPC file format needs a file; stdout ('-o -') gets the IPC stream format (--format arrow-stream)"),
        "arrow" => ArrowIpcFormat.File,
        "arrow-stream" => ArrowIpcFormat.Stream,
        _ when output == "-" => ArrowIpcFormat.Stream,
        _ => Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".arrows" => ArrowIpcFormat.Stream,
            ".parquet" => throw new UsageException("Parquet output is not available yet; write .arrow"),
            _ => ArrowIpcFormat.File,
        },
    };

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => $"{bytes} B",
    };

    private static void WriteSummaryJson(string path, string input, string output, ArrowIpcFormat format, ConversionSummary summary, long outputBytes, string inflater)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("input", input);
            json.WriteString("output", output);
            json.WriteString("format", format == ArrowIpcFormat.File ? "arrow" : "arrow-stream");
            json.WriteNumber("records", summary.Records);
            json.WriteNumber("records_read", summary.RecordsRead);
            json.WriteNumber("batches", summary.Batches);
            json.WriteNumber("seconds", Math.Round(summary.Elapsed.TotalSeconds, 3));
            json.WriteNumber("records_per_second", Math.Round(summary.RecordsPerSecond));
            json.WriteNumber("input_bytes", summary.CompressedBytesRead);
            json.WriteNumber("output_bytes", outputBytes);
            json.WriteNumber("threads", summary.Threads);
            json.WriteBoolean("sequential", summary.Sequential);
            json.WriteString("inflater", inflater);
            json.WriteNumber("tag_columns", summary.TagColumns);
            json.WriteBoolean("missing_eof_marker", summary.MissingEofMarker);
            json.WriteNumber("peak_managed_bytes", summary.PeakManagedBytes);
            json.WriteNumber("peak_process_bytes", summary.PeakProcessBytes);
            json.WriteStartArray("stages");
            foreach (StageMetrics stage in summary.Stages)
            {
                json.WriteStartObject();
                json.WriteString("name", stage.Name);
                json.WriteNumber("items", stage.Items);
                json.WriteNumber("busy_seconds", Math.Round(stage.Busy.TotalSeconds, 4));
                json.WriteNumber("workers", stage.Workers);
                json.WriteNumber("utilisation", Math.Round(stage.Utilisation, 4));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        File.WriteAllBytes(path, stream.ToArray());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Threads} threads requested on a machine with {Cores} cores: threads beyond the core count add no speed")]
    private static partial void LogThreadNotice(ILogger logger, int threads, int cores);
}
