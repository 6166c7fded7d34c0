using System.Globalization;

namespace Bamflow.Dataflow;

/// <summary>Why statistics documents cannot be read back or added up.</summary>
public enum StatisticsPartError
{
    /// <summary>The document is not JSON, or its top level is not an object.</summary>
    NotJson,
    /// <summary>A key the document needs is absent (a counter, a QC object, one of the extended keys).</summary>
    MissingKey,
    /// <summary>A key holds a value of the wrong kind: a count that is negative or not a whole number, a name that is not a string, ….</summary>
    BadValue,
    /// <summary>A key that no statistics document has, or a key given twice.</summary>
    UnknownKey,
    /// <summary>Some parts carry a shard origin and others do not.</summary>
    MixedOrigins,
    /// <summary>Shards of different inputs (file name or size differ).</summary>
    DifferentInputs,
    /// <summary>Shards of different shardings (the shard counts differ).</summary>
    DifferentShardCounts,
    /// <summary>A shard is given more than once.</summary>
    DuplicateShard,
    /// <summary>A shard of 1..N is not given.</summary>
    MissingShard,
    /// <summary>The extended statistics are asked for, and a part has none.</summary>
    NotExtended,
    /// <summary>Extended parts list different references (names, lengths or order).</summary>
    DifferentReferences,
}

/// <summary>
/// A statistics document (<c>bamflow stats --json</c>) cannot be read back, or a set of them cannot be added up.
/// <see cref="BamFormatException.FileName"/> is the one document at fault, when there is one; <see cref="Files"/>
/// every document the error is about; <see cref="Key"/> the key at fault, as a path (<c>QC-passed reads/total</c>,
/// <c>references[2]/mapped</c>).
/// </summary>
public sealed class StatisticsPartException : BamFormatException
{
    private StatisticsPartException(StatisticsPartError kind, string message, IReadOnlyList<string> files, string? key = null, Exception? inner = null)
        : base(message, files.Count == 1 ? files[0] : null, null, inner)
    {
        Kind = kind;
        Files = files;
        Key = key;
    }

    /// <summary>What is wrong.</summary>
    public StatisticsPartError Kind { get; }

    /// <summary>The documents the error is about (file names, or "part N" for a document read without one).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The key at fault, as a path of keys joined by '/', when the error is about one.</summary>
    public string? Key { get; }

    internal static StatisticsPartException NotJson(string file, string what, Exception? inner = null) =>
        new(StatisticsPartError.NotJson, $"not a statistics document: {what}; give the output of 'bamflow stats --json'", [file], null, inner);

    internal static StatisticsPartException MissingKey(string file, string key, string hint) =>
        new(StatisticsPartError.MissingKey, $"key \"{key}\" is missing{hint}; give the output of 'bamflow stats --json' as it was written", [file], key);

    internal static StatisticsPartException BadValue(string file, string key, string value, string expected) =>
        new(StatisticsPartError.BadValue, $"\"{key}\" is {value}: {expected}", [file], key);

    internal static StatisticsPartException UnknownKey(string file, string key, bool twice) =>
        new(StatisticsPartError.UnknownKey, twice
            ? $"key \"{key}\" is given twice"
            : $"unknown key \"{key}\": not a key of 'bamflow stats --json' (samtools flagstat -O json)", [file], key);

    internal static StatisticsPartException MixedOrigins(IReadOnlyList<string> shards, IReadOnlyList<string> wholes) =>
        new(StatisticsPartError.MixedOrigins,
            $"{List(shards)} {(shards.Count == 1 ? "is a shard" : "are shards")} (bamflow stats --shard) but {List(wholes)} {(wholes.Count == 1 ? "is" : "are")} not: "
            + "merge the shards of one file, or the statistics of whole files, not both", [.. shards, .. wholes]);

    internal static StatisticsPartException DifferentInputs(string first, ShardOrigin a, string other, ShardOrigin b) =>
        new(StatisticsPartError.DifferentInputs,
            $"parts of different files: {first} is shard {a.Shard} of {a.Shards} of {a.Input} ({Bytes(a.Bytes)}) but {other} is shard {b.Shard} of {b.Shards} of {b.Input} ({Bytes(b.Bytes)})",
            [first, other]);

    internal static StatisticsPartException DifferentShardCounts(string first, ShardOrigin a, string other, ShardOrigin b) =>
        new(StatisticsPartError.DifferentShardCounts,
            $"parts of different shardings of {a.Input}: {first} is shard {a.Shard} of {a.Shards} but {other} is shard {b.Shard} of {b.Shards}",
            [first, other]);

    internal static StatisticsPartException DuplicateShard(ShardOrigin origin, IReadOnlyList<string> files) =>
        new(StatisticsPartError.DuplicateShard,
            $"shard {origin.Shard} of {origin.Shards} is given {(files.Count == 2 ? "twice" : files.Count.ToString(CultureInfo.InvariantCulture) + " times")}: {List(files)} ({origin.Input})",
            files);

    internal static StatisticsPartException MissingShard(ShardOrigin origin, IReadOnlyList<int> missing, IReadOnlyList<string> files)
    {
        string which = missing.Count == 1
            ? $"shard {missing[0]} of {origin.Shards} is missing"
            : $"shards {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")} of {origin.Shards} are missing ({missing.Count})";
        return new(StatisticsPartError.MissingShard, $"{which} ({origin.Input}, {Bytes(origin.Bytes)}; parts given: {List(files)}): give every shard's statistics", files);
    }

    internal static StatisticsPartException NotExtended(string file) =>
        new(StatisticsPartError.NotExtended,
            "has no extended statistics (no \"MAPQ\", \"read length\" and \"references\": it was made without --extended); merge without --extended, or make it with 'bamflow stats --json --extended'",
            [file]);

    internal static StatisticsPartException DifferentReferences(string first, string other, string difference) =>
        new(StatisticsPartError.DifferentReferences,
            $"the references of {other} differ from those of {first} ({difference}): the extended statistics of files with different headers cannot be added up; merge without --extended",
            [first, other]);

    private static string List(IEnumerable<string> files) => string.Join(", ", files);

    private static string Bytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes");
}
