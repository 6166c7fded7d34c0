using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Parquet;
using Microsoft.Extensions.Logging;

namespace Bamflow.Cli;

/// <summary><c>bamflow convert IN.bam [-o OUT]</c>: the conversion.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = Commands.Input();
        var output = new Option<string>("--output", "-o")
        {
            Description = "Where to write: a file ('.arrow'/'.feather' = IPC file, '.arrows' = IPC stream, '.parquet' = Parquet), or '-' for stdout (an IPC stream, or Parquet with --format parquet). Default: the input name with '.arrow' ('.parquet' with --format parquet).",
            HelpName = "FILE",
        };
        var format = new Option<string>("--format")
        {
            Description = "arrow (IPC file), arrow-stream (IPC stream) or parquet. Default: from the output's extension.",
            HelpName = "arrow|arrow-stream|parquet",
        };
        format.AcceptOnlyFromAmong("arrow", "arrow-stream", "parquet");
        var threads = new Option<int>("--threads", "-@")
        {
            Description = "Cores to use: inflate, chunking, conversion and writing share N worker threads. Default: every core; more than the cores are reduced to the cores, with a notice.",
            DefaultValueFactory = _ => Environment.ProcessorCount,
            HelpName = "N",
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Records per Arrow record batch (a batch also ends at 8 MiB of BAM data, about 22,000 short reads). Parquet row groups are sized separately (--row-group-size).",
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
            Description = "Arrow IPC: body compression none (default, readable by every Arrow implementation), lz4 or zstd. "
                + "Parquet: page compression zstd (default), snappy or none.",
            HelpName = "none|lz4|zstd|snappy",
        };
        compression.AcceptOnlyFromAmong("none", "lz4", "zstd", "snappy");
        var rowGroupSize = new Option<int?>("--row-group-size")
        {
            Description = $"Parquet only: rows per row group. Default: {ParquetSinkOptions.DefaultRowGroupSize:N0}.",
            HelpName = "N",
        };
        var parquetPlain = new Option<bool>("--parquet-plain")
        {
            Description = "Parquet only: write seq and qual as PLAIN pages through Arrow C++ instead of Bamflow's own DELTA_LENGTH_BYTE_ARRAY pages (for readers without that encoding: pyarrow before 9.0, Spark's vectorized reader before 3.3). Slower, larger.",
        };
        var sequential = new Option<bool>("--sequential") { Description = "Run the single-threaded baseline path (no parallel blocks)." };
        var inflater = Commands.Inflater();
        var maxRecordSize = Commands.MaxRecordSize();
        var quiet = new Option<bool>("--quiet") { Description = "No progress and no summary (warnings and errors are still shown)." };
        var verbose = new Option<bool>("--verbose") { Description = "Debug logging." };
        var summaryJson = new Option<string>("--summary-json") { Description = "Also write the summary as JSON to FILE.", HelpName = "FILE" };
        var stats = new Option<bool>("--stats") { Description = "After the summary, print each stage's items, busy time and utilisation, the reader's wait on backpressure and peak memory." };

        var command = new Command("convert", "Convert a BAM file to Apache Arrow IPC or Parquet.")
        {
            input, output, format, threads, batchSize, limit, tags, tagScan, noSeq, noQual, compression, rowGroupSize, parquetPlain, sequential, inflater, quiet, verbose, summaryJson,
        };
        command.Add(stats);
        command.Add(maxRecordSize);
        var validation = Commands.Validation();
        validation.AcceptOnlyFromAmong("strict", "lenient");
        command.Add(validation);
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

                // Let the cancelled run stop and free its native writers before the process exits (a Parquet row
                // group still being encoded while the runtime shuts down makes Arrow C++ complain), but never wait
                // on a read that no token interrupts: at most half a second.
                await Task.WhenAny(work, Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None));
                throw;
            }
        }));
        return command;

        async Task<int> RunAsync(ParseResult parse, TaskCompletionSource<OutputTarget> started, CancellationToken cancellationToken)
        {
            int recordSizeLimit = Commands.ParseMaxRecordSize(parse, maxRecordSize);
            var conversion = UsageException.Check(() => Commands.BuildConversionOptions(parse, tags, tagScan, noSeq, noQual, parse.GetValue(batchSize)));
            var pipeline = UsageException.Check(() =>
            {
                var options = new PipelineOptions
                {
                    Threads = parse.GetValue(threads),
                    Limit = parse.GetValue(limit),
                    Sequential = parse.GetValue(sequential),
                    Inflater = parse.GetValue(inflater),
                    Validation = parse.GetValue(validation) == "lenient" ? ValidationMode.Lenient : ValidationMode.Strict,
                };
                options.Validate();
                return options;
            });
            string inputPath = parse.GetValue(input)!;
            string? formatName = parse.GetValue(format);
            string outputPath = parse.GetValue(output) ?? DefaultOutput(inputPath, formatName);
            OutputFormat outputFormat = ResolveFormat(formatName, outputPath);
            SinkFactory createSink = ResolveSink(outputFormat, parse.GetValue(compression), parse.GetValue(rowGroupSize), parse.GetValue(parquetPlain));
            bool isQuiet = parse.GetValue(quiet);

            using CliLogging logging = CliLogging.Create(isQuiet, parse.GetValue(verbose));
            ILogger logger = logging.Logger;
            if (!pipeline.Sequential)
            {
                pipeline = pipeline with { Threads = Commands.EffectiveThreads(pipeline.Threads, logger) };
            }

            using IBgzfInflater inflaterInstance = BgzfInflater.Create(parse.GetValue(inflater));
            using BamReader reader = BamReader.Open(inputPath, logger, inflaterInstance);
            reader.MaxRecordSize = recordSizeLimit;
            BamArrowPipeline engine = filters.Apply(parse, new BamArrowPipeline(conversion, pipeline, logger), reader.Header);
            using SchemaPlan plan = await engine.PlanAsync(reader, cancellationToken);

            var progress = new ConversionProgress { TotalBytes = Commands.InputSize(inputPath) };
            await using OutputTarget target = OutputTarget.Open(outputPath);
            started.TrySetResult(target);
            ConversionSummary summary;
            await using (var reporter = new ProgressReporter(progress, logger, enabled: !isQuiet))
            {
                await using IRecordBatchSink sink = createSink(target.Stream);
                summary = await engine.RunAsync(plan, sink, progress, cancellationToken);
            }

            await target.CommitAsync(cancellationToken);
            if (!isQuiet)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bamflow: {summary.Records:N0} records{Dropped(summary)}, {summary.Batches:N0} batches, {summary.Elapsed.TotalSeconds:F2} s, {summary.RecordsPerSecond:N0} records/s, {Size(target.BytesWritten)} written to {outputPath} ({(summary.Sequential ? "sequential" : $"{summary.Threads} threads")}, {inflaterInstance.Name})"));
            }

            if (parse.GetValue(stats))
            {
                Console.Error.Write(RunStatistics.Format(summary));
            }

            if (parse.GetValue(summaryJson) is { } jsonPath)
            {
                WriteSummaryJson(jsonPath, inputPath, outputPath, outputFormat, summary, target.BytesWritten, inflaterInstance.Name);
            }

            return ExitCodes.Success;
        }
    }

    /// <summary>" (of N read: S invalid skipped, F filtered out)", or nothing when every record read was written.</summary>
    private static string Dropped(ConversionSummary summary)
    {
        long filtered = summary.RecordsRead - summary.RecordsSkipped - summary.Records;
        string[] parts =
        [
            .. summary.RecordsSkipped > 0 ? [string.Create(CultureInfo.InvariantCulture, $"{summary.RecordsSkipped:N0} invalid skipped")] : Array.Empty<string>(),
            .. filtered > 0 ? [string.Create(CultureInfo.InvariantCulture, $"{filtered:N0} filtered out")] : Array.Empty<string>(),
        ];
        return parts.Length == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" (of {summary.RecordsRead:N0} read: {string.Join(", ", parts)})");
    }

    private static string DefaultOutput(string input, string? format)
    {
        if (input == "-")
        {
            throw new UsageException("reading standard input needs -o (use '-o -' to write an IPC stream to stdout)");
        }

        return Path.ChangeExtension(input, format == "parquet" ? ".parquet" : ".arrow");
    }

    /// <summary>What convert writes.</summary>
    private enum OutputFormat
    {
        Arrow,
        ArrowStream,
        Parquet,
    }

    private delegate IRecordBatchSink SinkFactory(Stream stream);

    private static OutputFormat ResolveFormat(string? format, string output) => format switch
    {
        "arrow" when output == "-" => throw new UsageException("the IPC file format needs a file; stdout ('-o -') gets the IPC stream format (--format arrow-stream)"),
        "arrow" => OutputFormat.Arrow,
        "arrow-stream" => OutputFormat.ArrowStream,
        "parquet" => OutputFormat.Parquet,
        _ when output == "-" => OutputFormat.ArrowStream,
        _ => Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".arrows" => OutputFormat.ArrowStream,
            ".parquet" => OutputFormat.Parquet,
            _ => OutputFormat.Arrow,
        },
    };

    /// <summary>The sink for <paramref name="format"/>, after checking that the compression and row-group options apply to it.</summary>
    private static SinkFactory ResolveSink(OutputFormat format, string? compression, int? rowGroupSize, bool parquetPlain)
    {
        if (format != OutputFormat.Parquet)
        {
            if (rowGroupSize is not null)
            {
                throw new UsageException("--row-group-size applies to Parquet output only");
            }

            if (parquetPlain)
            {
                throw new UsageException("--parquet-plain applies to Parquet output only");
            }

            if (compression == "snappy")
            {
                throw new UsageException("--compression snappy applies to Parquet only; Arrow IPC takes none, lz4 or zstd");
            }

            var ipcFormat = format == OutputFormat.Arrow ? ArrowIpcFormat.File : ArrowIpcFormat.Stream;
            var ipcCompression = Enum.Parse<IpcCompression>(compression ?? "none", ignoreCase: true);
            return stream => new ArrowIpcSink(stream, ipcFormat, ipcCompression);
        }

        if (compression == "lz4")
        {
            throw new UsageException("--compression lz4 applies to Arrow IPC only; Parquet takes zstd, snappy or none");
        }

        var options = UsageException.Check(() =>
        {
            var parquet = new ParquetSinkOptions
            {
                Compression = Enum.Parse<ParquetCompression>(compression ?? "zstd", ignoreCase: true),
                RowGroupSize = rowGroupSize ?? ParquetSinkOptions.DefaultRowGroupSize,
                SinkEncodedColumns = parquetPlain ? [] : new ParquetSinkOptions().SinkEncodedColumns,
                // Never Arrow C++'s own pool (one thread per core, whatever --threads says): with two or more
                // threads the sink encodes row groups on the run's workers and ignores it; with one (or
                // --sequential) it encodes on the caller's thread.
                UseThreads = false,
            };
            parquet.Validate();
            return parquet;
        });
        return stream => new ParquetSink(stream, options);
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => $"{bytes} B",
    };

    private static void WriteSummaryJson(string path, string input, string output, OutputFormat format, ConversionSummary summary, long outputBytes, string inflater)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("input", input);
            json.WriteString("output", output);
            json.WriteString("format", format switch
            {
                OutputFormat.Arrow => "arrow",
                OutputFormat.ArrowStream => "arrow-stream",
                _ => "parquet",
            });
            json.WriteNumber("records", summary.Records);
            json.WriteNumber("records_read", summary.RecordsRead);
            json.WriteNumber("records_skipped", summary.RecordsSkipped);
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
            json.WriteNumber("peak_chunks", summary.PeakChunks);
            json.WriteNumber("peak_batches", summary.PeakBatches);
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
}
