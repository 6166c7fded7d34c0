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

/// <summary><c>bamflow convert IN.bam [REGION …] [-o OUT]</c>: the conversion, of the whole file or of regions through its index.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = Commands.Input();
        var output = new Option<string>("--output", "-o")
        {
            Description = "Where to write: a file ('.arrow'/'.feather' = IPC file, '.arrows' = IPC stream, '.parquet' = Parquet), or '-' for stdout (an IPC stream, or Parquet with --format parquet). "
                + "A directory (DIR/, or one that exists) makes a Hive-partitioned dataset, DIR/sample=NAME/part-KKKKK.parquet, of one or more inputs (convert A.bam B.bam … -o DIR/). "
                + "Default: the input name with '.arrow' ('.parquet' with --format parquet; '.part-KKKKK.arrow' with --shard).",
            HelpName = "FILE",
        };
        var format = new Option<string>("--format")
        {
            Description = "arrow (IPC file), arrow-stream (IPC stream) or parquet. Default: from the output's extension.",
            HelpName = "arrow|arrow-stream|parquet",
        };
        format.AcceptOnlyFromAmong("arrow", "arrow-stream", "parquet");
        var threads = Commands.Threads("inflate, chunking, conversion and writing share N worker threads");
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Records per Arrow record batch (a batch also ends at 8 MiB of BAM data, about 24,000 2x150 bp reads). Parquet row groups are sized separately (--row-group-size).",
            DefaultValueFactory = _ => ConversionOptions.DefaultBatchSize,
            HelpName = "N",
        };
        var limit = new Option<long?>("--limit")
        {
            Description = "Write only the first N records that pass the filters (as 'samtools view FILTERS | head -n N'); reading stops there. "
                + "The tag scan still looks at its --tag-scan records, so the schema is the full run's.",
            HelpName = "N",
        };
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
        var sequential = new Option<bool>("--sequential") { Description = "The single-core baseline: the same as --threads 1 (kept for scripts)." };
        var inflater = Commands.Inflater();
        var maxRecordSize = Commands.MaxRecordSize();
        var quiet = new Option<bool>("--quiet") { Description = "No progress and no summary (warnings and errors are still shown)." };
        var verbose = new Option<bool>("--verbose") { Description = "On an internal error (a bug in bamflow), also print its stack trace, for a bug report." };
        var summaryJson = new Option<string>("--summary-json") { Description = "Also write the summary as JSON to FILE.", HelpName = "FILE" };
        var force = new Option<bool>("--force") { Description = "With '-o -': write to standard output even when it is a terminal (refused otherwise: it is binary data)." };
        var stats = new Option<bool>("--stats") { Description = "After the summary, print each stage's items, busy time and utilisation, the reader's wait on backpressure and peak memory." };

        var command = new Command("convert", "Convert a BAM file to Apache Arrow IPC or Parquet.")
        {
            input, output, format, threads, batchSize, limit, tags, tagScan, noSeq, noQual, compression, rowGroupSize, parquetPlain, sequential, inflater, quiet, verbose, summaryJson,
        };
        command.Add(stats);
        command.Add(force);
        command.Add(maxRecordSize);
        var validation = Commands.Validation();
        validation.AcceptOnlyFromAmong("strict", "lenient");
        command.Add(validation);
        var filters = new FilterOptions();
        foreach (Option option in filters.All)
        {
            command.Add(option);
        }

        var regionOptions = new RegionOptions();
        regionOptions.AddTo(command);
        var shardOptions = new ShardOptions();
        shardOptions.AddTo(command);
        var sample = new Option<string>("--sample")
        {
            Description = "With -o DIR/: the sample's name in the dataset (DIR/sample=NAME/part-KKKKK.parquet); default: the input's file name without .bam.",
            HelpName = "NAME",
        };
        command.Add(sample);

        command.SetAction((parse, cancellationToken) => Cli.RunAsync(async () =>
        {
            // The work runs on its own so that a signal ends the command at once, even while the reader is blocked
            // in a read of a pipe, or the writer in a write, that no token can interrupt: the outputs are aborted
            // from here (their temporary files deleted) and the process exits.
            var opened = new System.Collections.Concurrent.ConcurrentQueue<OutputTarget>();
            using IDisposable forcedExit = ProcessControl.OnForcedExit(() => AbortAll(opened).Wait(TimeSpan.FromMilliseconds(200)));
            Task<int> work = Task.Run(() => RunAsync(parse, opened, cancellationToken), CancellationToken.None);
            try
            {
                return await work.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Let the cancelled run stop and free its native writers before the process exits (a Parquet row
                // group still being encoded while the runtime shuts down makes Arrow C++ complain), but never wait
                // on a read or write that no token interrupts: at most half a second.
                await Task.WhenAny(Task.WhenAll(work, AbortAll(opened)), Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None));
                throw;
            }
        }, verbose: parse.GetValue(verbose)));
        return command;

        async Task<int> RunAsync(ParseResult parse, System.Collections.Concurrent.ConcurrentQueue<OutputTarget> opened, CancellationToken cancellationToken)
        {
            int recordSizeLimit = Commands.ParseMaxRecordSize(parse, maxRecordSize);
            var conversion = UsageException.Check(() => Commands.BuildConversionOptions(parse, tags, tagScan, noSeq, noQual, parse.GetValue(batchSize)));
            var pipeline = UsageException.Check(() =>
            {
                var options = new PipelineOptions
                {
                    Threads = Commands.ThreadCount(parse, threads),
                    Limit = parse.GetValue(limit),
                    Sequential = parse.GetValue(sequential),
                    Inflater = parse.GetValue(inflater),
                    Validation = parse.GetValue(validation) == "lenient" ? ValidationMode.Lenient : ValidationMode.Strict,
                };
                options.Validate();
                return options;
            });
            (string inputPath, string? indexPath) = regionOptions.ResolveInput(parse, NotEmpty(parse.GetValue(input)!, "the input"));
            (int Shard, int? Count)? shardAsked = shardOptions.Parse(parse);
            string? formatName = parse.GetValue(format);
            string? givenOutput = parse.GetValue(output);
            string? datasetDirectory = givenOutput is not null && Dataset.IsDirectory(givenOutput) ? givenOutput : null;
            List<string> inputs = [inputPath, .. datasetDirectory is null ? [] : regionOptions.TakeInputs(parse)];
            string? sampleName = parse.GetValue(sample);
            string? jsonPath = parse.GetValue(summaryJson) is { } json ? NotEmpty(json, "--summary-json") : null;
            if (sampleName is not null && datasetDirectory is null)
            {
                throw new UsageException("--sample names the partition of a dataset: it needs -o DIR/ (a directory)");
            }

            if (inputs.Count > 1 && (sampleName is not null || jsonPath is not null || parse.GetValue(shardOptions.PlanOption) is not null))
            {
                throw new UsageException($"{(sampleName is not null ? "--sample" : jsonPath is not null ? "--summary-json" : "--plan")} belongs to one input, and {inputs.Count} are given: convert them one at a time");
            }

            if (shardAsked is not null && regionOptions.Selects(parse))
            {
                throw new UsageException("--shard reads part of the whole file, and regions select records through the index: give one or the other");
            }

            if (datasetDirectory is not null)
            {
                formatName ??= "parquet"; // a dataset's parts: Parquet unless asked otherwise
                if (formatName == "arrow-stream")
                {
                    throw new UsageException("a dataset's parts are files: --format parquet or arrow, not arrow-stream");
                }
            }

            var samples = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string each in inputs)
            {
                if (datasetDirectory is not null && !samples.TryAdd(sampleName ?? Dataset.SampleName(each), each))
                {
                    throw new UsageException($"'{each}' and '{samples[Dataset.SampleName(each)]}' would both be sample '{Dataset.SampleName(each)}' of the dataset: rename one, or convert it alone with --sample NAME");
                }
            }

            foreach (string each in inputs)
            {
                await ConvertAsync(each, each == inputPath ? indexPath : null);
            }

            return ExitCodes.Success;

            async Task ConvertAsync(string inputPath, string? indexPath)
            {
                string outputPath = datasetDirectory is not null
                    ? Dataset.PartPath(datasetDirectory, sampleName ?? Dataset.SampleName(inputPath), shardAsked?.Shard ?? 1, formatName == "arrow" ? ".arrow" : ".parquet")
                    : givenOutput is null ? DefaultOutput(inputPath, formatName, shardAsked?.Shard) : NotEmpty(givenOutput, "-o/--output");
                RefuseSameFile(inputPath, outputPath, givenOutput is null, jsonPath);
                if (outputPath == "-" && !Console.IsOutputRedirected && !parse.GetValue(force))
                {
                    // As gzip and zstd do: binary data on a terminal is garbage on the screen and can upset the terminal.
                    throw new UsageException("refusing to write binary Arrow/Parquet data to a terminal (-o -): write to a file (-o FILE), "
                        + "pipe it (bamflow convert IN.bam -o - | …), or add --force");
                }

                if (outputPath == "-" || jsonPath == "-")
                {
                    StandardStreams.RequireOutput();
                }

                OutputFormat outputFormat = ResolveFormat(formatName, outputPath);
                SinkFactory createSink = ResolveSink(outputFormat, parse.GetValue(compression), parse.GetValue(rowGroupSize), parse.GetValue(parquetPlain));
                bool isQuiet = parse.GetValue(quiet);

                using CliLogging logging = CliLogging.Create(isQuiet, parse.GetValue(verbose));
                ILogger logger = logging.Logger;
                if (!pipeline.Sequential)
                {
                    pipeline = pipeline with { Threads = Commands.EffectiveThreads(pipeline.Threads, logger) };
                }

                (ShardPlan Plan, int Shard)? shard = shardAsked is { } asked
                    ? await shardOptions.ResolveAsync(parse, asked, inputPath, indexPath, recordSizeLimit, parse.GetValue(inflater), conversion, logger, cancellationToken)
                    : null;
                if (datasetDirectory is not null)
                {
                    Dataset.RefuseOtherParts(outputPath, shard?.Plan.Count ?? 1);
                }

                using IBgzfInflater inflaterInstance = BgzfInflater.Create(parse.GetValue(inflater));
                using BamReader reader = BamReader.Open(inputPath, logger, inflaterInstance);
                reader.MaxRecordSize = recordSizeLimit;
                var engine = new BamArrowPipeline(conversion, pipeline, logger);
                engine = shard is { } s ? engine.Shard(s.Plan, s.Shard) : regionOptions.Apply(parse, engine, reader, inputPath, indexPath);
                engine = filters.Apply(parse, engine, reader.Header);
                using SchemaPlan plan = await engine.PlanAsync(reader, cancellationToken);

                // A region query reads the index's chunks only: the file's size is no total to show progress against.
                var progress = new ConversionProgress
                {
                    TotalBytes = shard is { } part ? part.Plan.CompressedLength(part.Shard) : regionOptions.Selects(parse) ? null : Commands.InputSize(inputPath),
                };
                CheckAddressSpace(outputFormat, pipeline);
                // The summary JSON is opened first and committed after the output, so that a JSON that cannot be
                // written fails the run before anything is replaced.
                await using OutputTarget? jsonTarget = jsonPath is null ? null : Opened(OutputTarget.Open(jsonPath));
                await using OutputTarget target = Opened(OutputTarget.Open(outputPath));
                ConversionSummary summary;
                await using (var reporter = new ProgressReporter(progress, logger, enabled: !isQuiet))
                {
                    await using IRecordBatchSink sink = createSink(target.Stream);
                    summary = await engine.RunAsync(plan, sink, progress, cancellationToken);
                }

                if (jsonTarget is not null)
                {
                    WriteSummaryJson(jsonTarget.Stream, inputPath, outputPath, outputFormat, summary, target.BytesWritten, inflaterInstance.Name);
                }

                await target.CommitAsync(cancellationToken);
                if (jsonTarget is not null)
                {
                    await jsonTarget.CommitAsync(cancellationToken);
                }

                if (!isQuiet)
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"bamflow: {Count(summary.Records, "record")}{Dropped(summary)}, {Count(summary.Batches, "batch")}, {summary.Elapsed.TotalSeconds:F2} s, {summary.RecordsPerSecond:N0} records/s, {Size(target.BytesWritten)} written to {outputPath} ({(summary.Sequential ? "sequential" : Count(summary.Threads, "thread"))}, {inflaterInstance.Name})"));
                }

                if (parse.GetValue(stats))
                {
                    Console.Error.Write(RunStatistics.Format(summary));
                }
            }

            OutputTarget Opened(OutputTarget target)
            {
                opened.Enqueue(target);
                return target;
            }
        }
    }

    /// <summary>Aborts every output opened so far (deleting their temporary files first); never waits on a stalled write.</summary>
    private static Task AbortAll(IEnumerable<OutputTarget> targets) =>
        Task.WhenAll(targets.Select(target => Task.Run(() => target.AbortAsync())));

    private static string NotEmpty(string path, string what) =>
        path.Length > 0 ? path : throw new UsageException($"{what} is an empty name; give a file name, or '-' for standard {(what == "the input" ? "input" : "output")}");

    /// <summary>
    /// Refuses (usage error) an output that is the input or another output, however each is named: relative paths,
    /// '..', symbolic and hard links (files compare by device and inode).
    /// </summary>
    private static void RefuseSameFile(string inputPath, string outputPath, bool outputDefaulted, string? jsonPath)
    {
        if (outputPath == "-" && jsonPath == "-")
        {
            throw new UsageException("the output and --summary-json cannot both be standard output");
        }

        (string Role, string Path)[] files =
        [
            .. inputPath == "-" ? [] : new[] { ("the input", inputPath) },
            // -o -: standard output, which the shell may have opened on the input itself (`-o - >> x.bam`).
            .. outputPath == "-" ? new[] { ("standard output (-o -)", "/dev/stdout") } : new[] { (outputDefaulted ? "the output (named after the input; give -o)" : "the output", outputPath) },
            .. jsonPath is null or "-" ? [] : new[] { ("--summary-json", jsonPath) },
        ];
        for (int later = 1; later < files.Length; later++)
        {
            for (int earlier = 0; earlier < later; earlier++)
            {
                if (FileIdentity.AreSame(files[earlier].Path, files[later].Path))
                {
                    throw new UsageException($"{files[later].Role} '{files[later].Path}' is the same file as {files[earlier].Role} '{files[earlier].Path}': it would be overwritten");
                }
            }
        }
    }

    /// <summary>
    /// Under a virtual memory limit (ulimit -v), fails before any output exists when what is left of it is below what
    /// a run needs beyond start-up: threads, native buffers and, for Parquet, Arrow C++'s encoders. Measured on the
    /// benchmark BAM under limits of 1.5 and 2 GiB: Parquet grew by 84–92 MiB at 1–2 threads and 119 MiB at 8, Arrow
    /// IPC by 20–50 MiB; the estimate leaves a margin above those. Without it, a thread that cannot get its stack
    /// ends the process from inside the runtime, with no message and the temporary file left behind.
    /// </summary>
    private static void CheckAddressSpace(OutputFormat format, PipelineOptions pipeline)
    {
        if (AddressSpace.Available() is not { } free || AddressSpace.Limit is not { } limit)
        {
            return;
        }

        int threads = pipeline.Sequential ? 1 : pipeline.Threads;
        long need = ((48L + (6L * threads) + (format == OutputFormat.Parquet ? 64 : 0)) << 20);
        if (free < need)
        {
            throw new InsufficientMemoryException(
                $"the virtual memory limit (ulimit -v) of {AddressSpace.Mebibytes(limit)} leaves {AddressSpace.Mebibytes(free)} after start-up, and this conversion needs about {AddressSpace.Mebibytes(need)} more; raise the limit, or use fewer --threads");
        }
    }

    /// <summary>"1 record", "2,023 records", "1 batch", "3 batches".</summary>
    internal static string Count(long count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : noun.EndsWith("ch", StringComparison.Ordinal) ? "es" : "s")}");

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

    private static string DefaultOutput(string input, string? format, int? shard)
    {
        if (input == "-")
        {
            throw new UsageException("reading standard input needs -o (use '-o -' to write an IPC stream to stdout)");
        }

        string extension = format == "parquet" ? ".parquet" : ".arrow";
        return Path.ChangeExtension(input, shard is { } k ? string.Create(CultureInfo.InvariantCulture, $".part-{k:D5}{extension}") : extension);
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

    private static void WriteSummaryJson(Stream destination, string input, string output, OutputFormat format, ConversionSummary summary, long outputBytes, string inflater)
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

        destination.Write(stream.ToArray());
    }
}
