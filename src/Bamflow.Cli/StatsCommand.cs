using System.CommandLine;
using System.Text;
using Bamflow.Bam;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>
/// <c>bamflow stats IN.bam [--json] [--extended]</c>: what <c>samtools flagstat</c> prints (byte for byte; with
/// <c>--json</c> its <c>-O json</c> document), and with <c>--extended</c> the MAPQ histogram, read lengths and
/// records per reference too. <c>bamflow stats --merge PART.json…</c> adds up documents <c>--json</c> printed
/// (<see cref="StatisticsPart.Merge"/>) and prints the same for them all.
/// </summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var input = Commands.Input();
        input.Arity = ArgumentArity.ZeroOrOne; // none with --merge, which reads parts instead (checked below)
        var merge = new Option<string[]>("--merge")
        {
            Description = "Add up statistics documents (what 'bamflow stats --json' printed for parts of a file, or for several files) and print "
                + "what stats prints for them all: for the shards of one BAM (--shard K/N), exactly what samtools flagstat prints for the whole file. "
                + "Shards are checked: one input, every shard once. With --extended, every part must be extended. No IN.bam with --merge.",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
            HelpName = "PART.json",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print the JSON document 'samtools flagstat -O json' prints (with --extended: that document plus the keys \"MAPQ\", \"read length\" and \"references\").",
        };
        var extended = new Option<bool>("--extended")
        {
            Description = "After flagstat's counts, add the MAPQ histogram (MAPQ lines), read lengths (RL lines) and records per reference, mapped and unmapped, as samtools idxstats counts them (REF lines).",
        };
        var threads = Commands.Threads("inflating and counting run in parallel on N worker threads");
        var command = new Command("stats", "Print samtools flagstat's counts for a BAM file, byte for byte as samtools flagstat prints them; --extended adds MAPQ, read-length and per-reference counts.")
        {
            input, json, extended, merge, threads,
        };
        var maxRecordSize = Commands.MaxRecordSize();
        command.Add(maxRecordSize);
        var regionOptions = new RegionOptions();
        regionOptions.AddTo(command);
        var shardOptions = new ShardOptions();
        shardOptions.AddTo(command);

        command.SetAction((parse, cancellationToken) => Cli.RunAsync(async () =>
        {
            if (parse.GetResult(merge) is not null)
            {
                return await MergeAsync(parse, parse.GetValue(merge)!, parse.GetValue(json), parse.GetValue(extended), cancellationToken);
            }

            if (parse.GetValue(input) is null)
            {
                throw new UsageException("stats needs an input: bamflow stats IN.bam, or bamflow stats --merge PART.json… to add up statistics documents");
            }

            int threadCount = Commands.ThreadCount(parse, threads);

            StandardStreams.RequireOutput();
            int recordSizeLimit = Commands.ParseMaxRecordSize(parse, maxRecordSize);
            (string inputPath, string? indexPath) = regionOptions.ResolveInput(parse, parse.GetValue(input)!);
            bool asJson = parse.GetValue(json);
            (int Shard, int? Count)? shardAsked = shardOptions.Parse(parse);
            if (shardAsked is not null && regionOptions.Selects(parse))
            {
                throw new UsageException("--shard reads part of the whole file, and regions select records through the index: give one or the other");
            }

            bool isExtended = parse.GetValue(extended);

            // The work runs on its own so that Ctrl+C ends the command at once, even while a read of a pipe blocks.
            string output = await Task.Run(async () =>
            {
                using CliLogging logging = CliLogging.Create(quiet: false);
                using BamReader reader = BamReader.Open(inputPath, logging.Logger);
                reader.MaxRecordSize = recordSizeLimit;
                threadCount = Commands.EffectiveThreads(threadCount, logging.Logger);
                IReadOnlyList<BamReference> references = reader.Header.References;
                (ShardPlan Plan, int Shard)? shard = shardAsked is { } asked
                    ? await shardOptions.ResolveAsync(parse, asked, inputPath, indexPath, recordSizeLimit, Bamflow.Bgzf.BgzfInflaterKind.Auto, scan: null, logging.Logger, cancellationToken)
                    : null;
                BamArrowPipeline Select(BamArrowPipeline engine) => shard is { } s ? engine.Shard(s.Plan, s.Shard) : regionOptions.Apply(parse, engine, reader, inputPath, indexPath);
                // A shard's JSON says which shard of which file it is, so that --merge checks every shard is there once.
                ShardOrigin? origin = shard is { } part ? new ShardOrigin(inputPath, part.Plan.Bytes, part.Shard, part.Plan.Count) : null;
                if (!isExtended)
                {
                    FlagStatistics flags = await ComputeAsync<FlagStatistics>(reader, threadCount, logging.Logger, Select, cancellationToken);
                    return asJson ? flags.ToJson(origin) : flags.ToText();
                }

                BamStatistics statistics = await ComputeAsync<BamStatistics>(reader, threadCount, logging.Logger, Select, cancellationToken);
                return asJson ? statistics.ToExtendedJson(references, origin) : statistics.ToExtendedText(references);
            }, CancellationToken.None).WaitAsync(cancellationToken);

            await StandardStreams.WriteOutputAsync(output, cancellationToken);
            return ExitCodes.Success;
        }));
        return command;

        // --merge: no input, no option that reads a BAM; the parts are read, checked and added up.
        async Task<int> MergeAsync(ParseResult parse, string[] parts, bool asJson, bool isExtended, CancellationToken cancellationToken)
        {
            if (parse.GetValue(input) is { } given)
            {
                throw new UsageException($"--merge adds up the statistics documents given after it, and reads no BAM: '{given}' is not expected (give every part right after --merge)");
            }

            string? option = new Option[] { threads, maxRecordSize }.Select(o => parse.GetResult(o)).FirstOrDefault(r => r is { Implicit: false }) is { } result
                ? result.IdentifierToken?.Value ?? result.Option.Name
                : regionOptions.GivenOption(parse);
            if (option is not null)
            {
                throw new UsageException($"{option} does not apply to --merge, which adds up statistics documents and reads no BAM");
            }

            StandardStreams.RequireOutput();
            StatisticsPart[] read = [.. parts.Select(StatisticsPart.Read)];
            StatisticsPart merged = StatisticsPart.Merge(read, isExtended);
            await StandardStreams.WriteOutputAsync(asJson ? merged.ToJson() : merged.ToText(), cancellationToken);
            return ExitCodes.Success;
        }
    }

    /// <summary>
    /// Observes every record of <paramref name="reader"/> with the parallel engine and no conversion: blocks are
    /// inflated on every core, and each worker counts its chunk into a partial that is then added up.
    /// </summary>
    internal static async Task<T> ComputeAsync<T>(BamReader reader, int threads, Microsoft.Extensions.Logging.ILogger logger, Func<BamArrowPipeline, BamArrowPipeline>? select, CancellationToken cancellationToken)
        where T : RecordStatistics<T>, new()
    {
        var statistics = new T();
        var engine = new BamArrowPipeline(new Bamflow.Arrow.ConversionOptions { TagMode = Bamflow.Arrow.TagMode.None }, new PipelineOptions { Threads = threads }, logger);
        engine = (select?.Invoke(engine) ?? engine).Observe(statistics);
        await engine.RunAsync(reader, null, cancellationToken);
        return statistics;
    }
}
