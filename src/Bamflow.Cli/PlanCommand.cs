using System.CommandLine;
using System.Globalization;
using System.Text;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>
/// <c>bamflow plan IN.bam -n N [-o PLAN.json]</c>: N record-exact shards of a BAM file, balanced by compressed bytes, and the
/// schema they share, for <c>convert</c>/<c>stats --plan PLAN.json --shard K</c> in N independent jobs.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "The BAM file to plan (a file: shards are read by seeking into it)." };
        var shards = new Option<int>("--shards", "-n")
        {
            Description = "How many shards (each a range of the file from a record start to the next shard's; every record is in exactly one).",
            Required = true,
            HelpName = "N",
        };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the plan (JSON); default: standard output.", HelpName = "PLAN.json" };
        var index = new Option<string>("--index", "-X") { Description = "The BAI/CSI index to take record starts from (default: the one beside the file, if any).", HelpName = "INDEX" };
        var noIndex = new Option<bool>("--no-index") { Description = "Find every boundary by a block and record search, even when the file has an index." };
        var tagScan = Commands.TagScan();
        var maxRecordSize = Commands.MaxRecordSize();
        var inflater = Commands.Inflater();
        var quiet = new Option<bool>("--quiet") { Description = "No summary line on standard error." };
        var command = new Command("plan", "Plan N record-exact shards of a BAM file (balanced by compressed bytes, reading a few blocks per shard) for 'convert/stats --plan PLAN.json --shard K' in separate jobs.")
        {
            input, shards, output, index, noIndex, tagScan, maxRecordSize, inflater, quiet,
        };
        command.SetAction((parse, cancellationToken) => Cli.RunAsync(async () =>
        {
            string inputPath = parse.GetValue(input)!;
            if (inputPath == "-")
            {
                throw new UsageException("plan: shards are ranges of a file: '-' (standard input) cannot be planned; write the BAM to a file first");
            }

            int count = parse.GetValue(shards);
            if (count is < 1 or > ShardOptions.MaxShards)
            {
                throw new UsageException($"-n/--shards: between 1 and {ShardOptions.MaxShards:N0} (got {count})");
            }

            if (parse.GetValue(noIndex) && parse.GetValue(index) is not null)
            {
                throw new UsageException("plan: --no-index and -X/--index contradict each other");
            }

            string? outputPath = parse.GetValue(output);
            if (outputPath is not null && FileIdentity.AreSame(inputPath, outputPath))
            {
                throw new UsageException($"plan: the output '{outputPath}' is the BAM file '{inputPath}': it would be overwritten");
            }

            int recordSizeLimit = Commands.ParseMaxRecordSize(parse, maxRecordSize);
            var scan = UsageException.Check(() =>
            {
                var options = new Bamflow.Arrow.ConversionOptions { TagScanRecords = parse.GetValue(tagScan) };
                options.Validate();
                return options;
            });
            if (outputPath is null or "-")
            {
                StandardStreams.RequireOutput();
            }

            ShardPlan plan = await Task.Run(async () =>
            {
                using CliLogging logging = CliLogging.Create(quiet: parse.GetValue(quiet));
                return await ShardPlan.CreateAsync(inputPath, count, new ShardPlanOptions
                {
                    UseIndex = !parse.GetValue(noIndex),
                    IndexPath = parse.GetValue(index),
                    MaxRecordSize = recordSizeLimit,
                    Inflater = parse.GetValue(inflater),
                    Conversion = scan,
                }, logging.Logger, cancellationToken);
            }, CancellationToken.None).WaitAsync(cancellationToken);

            string json = plan.ToJson();
            if (outputPath is null or "-")
            {
                await StandardStreams.WriteOutputAsync(json, cancellationToken);
            }
            else
            {
                await using OutputTarget target = OutputTarget.Open(outputPath);
                await target.Stream.WriteAsync(Encoding.UTF8.GetBytes(json), cancellationToken);
                await target.CommitAsync(cancellationToken);
            }

            if (!parse.GetValue(quiet))
            {
                int empty = Enumerable.Range(1, plan.Count).Count(k => plan.Range(k) is null);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bamflow: {plan.Count:N0} shards of {inputPath} ({plan.FromIndex:N0} boundaries from the index, {plan.FromSearch:N0} by search{(empty > 0 ? $"; {empty:N0} empty: fewer record starts than shards" : "")}), {plan.BytesRead:N0} bytes read ({100.0 * plan.BytesRead / Math.Max(1, plan.Bytes):F2} % of the file) in {plan.Elapsed.TotalSeconds:F2} s"));
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
