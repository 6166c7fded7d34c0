using System.Globalization;
using System.Text;

namespace Bamflow.Dataflow;

/// <summary>
/// Where a statistics document made by <c>bamflow stats --shard K/N</c> comes from: the input as given, its size,
/// and which of the shards it counts. Written as one more top-level key after the others,
/// <c>"bamflow shard": {"input": "x.bam", "bytes": 870946, "shard": 1, "shards": 4}</c> (see
/// <see cref="FlagStatistics.ToJson(ShardOrigin?)"/>); <see cref="StatisticsPart.Merge"/> checks that the parts
/// it adds are every shard of one input, each once.
/// </summary>
public sealed record ShardOrigin
{
    /// <summary>The top-level key the origin is written under.</summary>
    public const string JsonKey = "bamflow shard";

    /// <summary>Creates an origin; <paramref name="shard"/> is 1-based, at most <paramref name="shards"/>.</summary>
    /// <param name="input">The input path as given on the command line.</param>
    /// <param name="bytes">The input file's size in bytes.</param>
    /// <param name="shard">Which shard (1 to <paramref name="shards"/>).</param>
    /// <param name="shards">How many shards the input was cut into (1 or more).</param>
    public ShardOrigin(string input, long bytes, int shard, int shards)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        if (shard < 1 || shard > shards)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"shards are numbered 1 to {shards}");
        }

        Input = input;
        Bytes = bytes;
        Shard = shard;
        Shards = shards;
    }

    /// <summary>The input path as given.</summary>
    public string Input { get; }

    /// <summary>The input file's size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Which shard, 1-based.</summary>
    public int Shard { get; }

    /// <summary>How many shards the input was cut into.</summary>
    public int Shards { get; }

    /// <summary>Appends <c>"bamflow shard": {…}</c> (the key and its one-line object, no indent, no line break).</summary>
    internal void AppendJson(StringBuilder json)
    {
        json.Append('"').Append(JsonKey).Append("\": {\"input\": ");
        StatisticsFormat.AppendJsonString(json, Input);
        json.Append(CultureInfo.InvariantCulture, $", \"bytes\": {Bytes}, \"shard\": {Shard}, \"shards\": {Shards}}}");
    }
}
