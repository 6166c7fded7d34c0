using System.CommandLine;
using System.Text;
using Bamflow.Bam;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>
/// <c>bamflow stats IN.bam [--json] [--extended]</c>: what <c>samtools flagstat</c> prints (byte for byte; with
/// <c>--json</c> its <c>-O json</c> document), and with <c>--extended</c> the MAPQ histogram, read lengths and
/// records per reference too.
/// </summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var input = Commands.Input();
        var json = new Option<bool>("--json")
        {
            Description = "Print the JSON document 'samtools flagstat -O json' prints (with --extended: that document plus the keys \"MAPQ\", \"read length\" and \"references\").",
        };
        var extended = new Option<bool>("--extended")
        {
            Description = "After flagstat's counts, add the MAPQ histogram (MAPQ lines), read lengths (RL lines) and records per reference, mapped and unmapped, as samtools idxstats counts them (REF lines).",
        };
        var threads = new Option<int>("--threads", "-@")
        {
            Description = "Cores to use. Default: every core. (For now the records are read on one thread.)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
            HelpName = "N",
        };
        var command = new Command("stats", "Print samtools flagstat's counts for a BAM file, byte for byte as samtools flagstat prints them; --extended adds MAPQ, read-length and per-reference counts.")
        {
            input, json, extended, threads,
        };
        command.SetAction((parse, cancellationToken) => Cli.RunAsync(async () =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1)
            {
                throw new UsageException($"threads must be at least 1 (got {threadCount})");
            }

            string inputPath = parse.GetValue(input)!;
            bool asJson = parse.GetValue(json);
            bool isExtended = parse.GetValue(extended);

            // The work runs on its own so that Ctrl+C ends the command at once, even while a read of a pipe blocks.
            string output = await Task.Run(() =>
            {
                using CliLogging logging = CliLogging.Create(quiet: false);
                using BamReader reader = BamReader.Open(inputPath, logging.Logger);
                BamStatistics statistics = Compute(reader, threadCount, cancellationToken);
                IReadOnlyList<BamReference> references = reader.Header.References;
                return (asJson, isExtended) switch
                {
                    (false, false) => statistics.Flags.ToText(),
                    (true, false) => statistics.Flags.ToJson(),
                    (false, true) => statistics.ToExtendedText(references),
                    (true, true) => statistics.ToExtendedJson(references),
                };
            }, CancellationToken.None).WaitAsync(cancellationToken);

            using Stream stdout = Console.OpenStandardOutput();
            await stdout.WriteAsync(Encoding.UTF8.GetBytes(output), cancellationToken);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// Observes every record of <paramref name="reader"/>. The single place that reads: a sequential loop for now;
    /// the parallel stats engine (one partial per worker, merged with <see cref="BamStatistics.Add"/>) replaces it
    /// and uses <paramref name="threads"/>.
    /// </summary>
    internal static BamStatistics Compute(BamReader reader, int threads, CancellationToken cancellationToken)
    {
        _ = threads;
        var statistics = new BamStatistics();
        long records = 0;
        while (reader.TryRead(out BamRecord record))
        {
            statistics.Observe(record);
            if ((++records & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return statistics;
    }
}
