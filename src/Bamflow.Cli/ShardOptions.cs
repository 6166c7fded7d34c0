using System.CommandLine;
using System.Globalization;
using Bamflow.Arrow;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Microsoft.Extensions.Logging;

namespace Bamflow.Cli;

/// <summary>
/// One shard of a file instead of the whole file: <c>--shard K/N</c> (plans N shards on the spot) or
/// <c>--plan PLAN.json --shard K</c> (a plan made once by <c>bamflow plan</c>); shared by <c>convert</c> and <c>stats</c>.
/// </summary>
internal sealed class ShardOptions
{
    private readonly Option<string> _shard = new("--shard")
    {
        Description = "Read only shard K of N (1-based, as 'split -n K/N'): the records whose first byte is in the K-th of N record-aligned "
            + "parts of the file (balanced by compressed bytes). With --plan, give K alone (N is the plan's). The schema is the whole file's, "
            + "so the shards' outputs, in order, hold the whole run's rows. Needs a file, not standard input.",
        HelpName = "K/N",
    };

    private readonly Option<string> _plan = new("--plan")
    {
        Description = "The shard plan made by 'bamflow plan' (its boundaries and tag scan are used, not recomputed): for a cluster, plan once and convert each shard in its own job.",
        HelpName = "PLAN.json",
    };

    /// <summary>The --plan option.</summary>
    public Option<string> PlanOption => _plan;

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(_shard);
        command.Add(_plan);
    }

    /// <summary>Whether a shard is asked for.</summary>
    public bool Given(ParseResult parse) => parse.GetValue(_shard) is not null || parse.GetValue(_plan) is not null;

    /// <summary>The shard asked for, as (K, N from the option or null with a plan), checked; null without --shard.</summary>
    public (int Shard, int? Count)? Parse(ParseResult parse)
    {
        string? text = parse.GetValue(_shard);
        string? planPath = parse.GetValue(_plan);
        if (text is null)
        {
            return planPath is null ? null : throw new UsageException("--plan needs --shard K: which of the plan's shards to read");
        }

        string[] parts = text.Split('/');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int shard)
            || (parts.Length == 2 && !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new UsageException($"--shard '{text}' is not K/N (e.g. --shard 3/16: the third of 16 shards) or, with --plan, K");
        }

        int? count = parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : null;
        if (count is null && planPath is null)
        {
            throw new UsageException($"--shard {text}: give the number of shards (--shard {text}/N) or a plan (--plan PLAN.json)");
        }

        if (count is < 1 or > MaxShards)
        {
            throw new UsageException($"--shard {text}: N must be between 1 and {MaxShards:N0}");
        }

        if (shard < 1 || shard > (count ?? int.MaxValue))
        {
            throw new UsageException($"--shard {text}: K must be between 1 and {(count is { } n ? n.ToString(CultureInfo.InvariantCulture) : "the plan's number of shards")} (shards are numbered from 1)");
        }

        return (shard, count);
    }

    /// <summary>The most shards a plan may have (more would be shards of a few blocks each for any real file).</summary>
    public const int MaxShards = 1_000_000;

    /// <summary>
    /// The plan and shard for <paramref name="input"/>: the plan file's (checked against the input, and against N when
    /// --shard K/N gives it), or a plan made now.
    /// </summary>
    /// <param name="scan">The tag scan's options; null: no tag scan (a plan made only to count records).</param>
    public async Task<(ShardPlan Plan, int Shard)> ResolveAsync(ParseResult parse, (int Shard, int? Count) asked, string input, string? index, int maxRecordSize, BgzfInflaterKind inflater, ConversionOptions? scan, ILogger logger, CancellationToken cancellationToken)
    {
        if (input == "-")
        {
            throw new UsageException("--shard reads part of a file: it needs a file, not standard input");
        }

        ShardPlan plan;
        if (parse.GetValue(_plan) is { } planPath)
        {
            plan = ShardPlan.Load(planPath);
            plan.CheckInput(input);
            if (asked.Count is { } count && count != plan.Count)
            {
                throw new UsageException($"--shard {asked.Shard}/{count}: the plan {planPath} has {plan.Count} shards");
            }

            if (asked.Shard > plan.Count)
            {
                throw new UsageException($"--shard {asked.Shard}: the plan {planPath} has shards 1 to {plan.Count}");
            }
        }
        else
        {
            plan = await ShardPlan.CreateAsync(input, asked.Count!.Value, new ShardPlanOptions
            {
                IndexPath = index,
                MaxRecordSize = maxRecordSize,
                Inflater = inflater,
                Conversion = scan ?? new ConversionOptions(),
                ScanTags = scan is not null,
            }, logger, cancellationToken);
        }

        return (plan, asked.Shard);
    }
}
