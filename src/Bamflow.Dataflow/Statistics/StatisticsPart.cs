using System.Globalization;
using System.Text;
using System.Text.Json;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// A statistics document read back: what <see cref="FlagStatistics.ToJson(ShardOrigin?)"/> (<c>bamflow stats
/// --json</c>, the document of <c>samtools flagstat -O json</c>) or <see cref="BamStatistics.ToExtendedJson(IReadOnlyList{BamReference}, ShardOrigin?)"/>
/// (<c>--json --extended</c>) wrote, with the shard origin when there is one. Every counter is read as written and
/// must be a whole number, 0 or more; the percentages are derived, so they are checked to be numbers (or null) and
/// otherwise ignored: the texts recompute them. <see cref="Merge"/> adds documents up: flagstat's counters are
/// sums, so the merge of the parts of a file is the statistics of the whole file, byte for byte.
/// Reads with <see cref="JsonDocument"/> only (no reflection: the CLI is Native AOT).
/// </summary>
public sealed class StatisticsPart
{
    private const string QcPassedKey = "QC-passed reads";
    private const string QcFailedKey = "QC-failed reads";
    private const string MappingQualityKey = "MAPQ";
    private const string ReadLengthKey = "read length";
    private const string ReferencesKey = "references";

    /// <summary>flagstat's counters by JSON key (samtools 1.16 bam_stat.c, <c>-O json</c>).</summary>
    private static readonly (string Key, Action<FlagCounts, long> Set)[] s_counters =
    [
        ("total", (c, v) => c.Total = v),
        ("primary", (c, v) => c.Primary = v),
        ("secondary", (c, v) => c.Secondary = v),
        ("supplementary", (c, v) => c.Supplementary = v),
        ("duplicates", (c, v) => c.Duplicates = v),
        ("primary duplicates", (c, v) => c.PrimaryDuplicates = v),
        ("mapped", (c, v) => c.Mapped = v),
        ("primary mapped", (c, v) => c.PrimaryMapped = v),
        ("paired in sequencing", (c, v) => c.Paired = v),
        ("read1", (c, v) => c.Read1 = v),
        ("read2", (c, v) => c.Read2 = v),
        ("properly paired", (c, v) => c.ProperlyPaired = v),
        ("with itself and mate mapped", (c, v) => c.BothMapped = v),
        ("singletons", (c, v) => c.Singletons = v),
        ("with mate mapped to a different chr", (c, v) => c.MateOnDifferentReference = v),
        ("with mate mapped to a different chr (mapQ >= 5)", (c, v) => c.MateOnDifferentReferenceMapq5 = v),
    ];

    /// <summary>The derived keys: percentages of the counters, recomputed when printed.</summary>
    private static readonly string[] s_percentages = ["mapped %", "primary mapped %", "properly paired %", "singletons %"];

    private static readonly JsonDocumentOptions s_options = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 8,
    };

    private StatisticsPart(string? fileName, FlagStatistics flags, BamStatistics? extended, IReadOnlyList<BamReference>? references, ShardOrigin? origin)
    {
        FileName = fileName;
        Flags = flags;
        Extended = extended;
        References = references;
        Origin = origin;
    }

    /// <summary>The file the document was read from (null: read from a string without a name, or a merge).</summary>
    public string? FileName { get; }

    /// <summary>flagstat's counters (for an extended document, the same object as <see cref="BamStatistics.Flags"/> of <see cref="Extended"/>).</summary>
    public FlagStatistics Flags { get; }

    /// <summary>All the statistics, when the document is extended (has "MAPQ", "read length" and "references"); null otherwise.</summary>
    public BamStatistics? Extended { get; }

    /// <summary>The references of an extended document (names and lengths, in order, '*' left out); null otherwise.</summary>
    public IReadOnlyList<BamReference>? References { get; }

    /// <summary>Where the document comes from, when <c>bamflow stats --shard</c> made it; null otherwise.</summary>
    public ShardOrigin? Origin { get; }

    /// <summary>Reads the statistics document in the file at <paramref name="path"/> (UTF-8).</summary>
    public static StatisticsPart Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes is [0x1f, 0x8b, ..])
        {
            // gzip's magic number (RFC 1952), which BGZF keeps: a BAM file given where its statistics were meant.
            throw StatisticsPartException.NotJson(path, "it is gzip-compressed (a BAM file?), not JSON");
        }

        int bom = bytes is [0xEF, 0xBB, 0xBF, ..] ? 3 : 0; // a UTF-8 byte order mark, as some editors write
        return Parse(Encoding.UTF8.GetString(bytes, bom, bytes.Length - bom), path);
    }

    /// <summary>
    /// Reads a statistics document. <paramref name="fileName"/> names it in errors (a
    /// <see cref="StatisticsPartException"/> naming the key at fault).
    /// </summary>
    public static StatisticsPart Parse(string json, string? fileName = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        string file = fileName ?? "statistics document";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, s_options);
        }
        catch (JsonException e)
        {
            throw StatisticsPartException.NotJson(file, $"invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw StatisticsPartException.NotJson(file, $"the document is a JSON {Kind(root)}, not an object");
            }

            JsonElement? passed = null, failed = null, mapq = null, lengths = null, references = null, origin = null;
            foreach (JsonProperty property in Properties(root, file, ""))
            {
                switch (property.Name)
                {
                    case QcPassedKey: passed = property.Value; break;
                    case QcFailedKey: failed = property.Value; break;
                    case MappingQualityKey: mapq = property.Value; break;
                    case ReadLengthKey: lengths = property.Value; break;
                    case ReferencesKey: references = property.Value; break;
                    case ShardOrigin.JsonKey: origin = property.Value; break;
                    default: throw StatisticsPartException.UnknownKey(file, property.Name, twice: false);
                }
            }

            int extendedKeys = (mapq is null ? 0 : 1) + (lengths is null ? 0 : 1) + (references is null ? 0 : 1);
            if (extendedKeys is not 0 and not 3)
            {
                string absent = mapq is null ? MappingQualityKey : lengths is null ? ReadLengthKey : ReferencesKey;
                throw StatisticsPartException.MissingKey(file, absent, " (an extended document, 'bamflow stats --json --extended', has \"MAPQ\", \"read length\" and \"references\")");
            }

            BamStatistics? extended = extendedKeys == 3 ? new BamStatistics() : null;
            FlagStatistics flags = extended?.Flags ?? new FlagStatistics();
            ReadCounts(flags.QcPassed, passed, QcPassedKey, file);
            ReadCounts(flags.QcFailed, failed, QcFailedKey, file);
            List<BamReference>? list = null;
            if (extended is not null)
            {
                ReadHistogram(mapq!.Value, MappingQualityKey, 255, file, (value, count) => extended.MappingQualities.Add(value, count));
                ReadHistogram(lengths!.Value, ReadLengthKey, int.MaxValue, file, (value, count) => extended.ReadLengths.Count(value, count));
                list = ReadReferences(references!.Value, extended.References, file);
            }

            return new StatisticsPart(fileName, flags, extended, list, origin is null ? null : ReadOrigin(origin.Value, file));
        }
    }

    /// <summary>
    /// Adds <paramref name="parts"/> up: with <paramref name="extended"/>, all the statistics (every part must be
    /// extended, with the same references), otherwise flagstat's counters. Parts that carry a shard origin must all
    /// carry one, come from one input (the same file name and size) and one sharding (the same N), and give every
    /// shard 1..N exactly once; parts without one (the statistics of several files) simply add up: the result is
    /// the statistics of those files together. A <see cref="StatisticsPartException"/> names the parts at fault.
    /// The result has no file name and no origin.
    /// </summary>
    public static StatisticsPart Merge(IReadOnlyList<StatisticsPart> parts, bool extended)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("there is no part to merge", nameof(parts));
        }

        string[] names = [.. parts.Select((part, i) => part.FileName ?? $"part {i + 1}")];
        CheckOrigins(parts, names);
        if (!extended)
        {
            var flags = new FlagStatistics();
            foreach (StatisticsPart part in parts)
            {
                flags.Add(part.Flags);
            }

            return new StatisticsPart(null, flags, null, null, null);
        }

        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i].Extended is null)
            {
                throw StatisticsPartException.NotExtended(names[i]);
            }

            if (i > 0 && Difference(parts[0].References!, parts[i].References!) is { } difference)
            {
                throw StatisticsPartException.DifferentReferences(names[0], names[i], difference);
            }
        }

        var all = new BamStatistics();
        foreach (StatisticsPart part in parts)
        {
            all.Add(part.Extended!);
        }

        return new StatisticsPart(null, all.Flags, all, parts[0].References, null);
    }

    /// <summary>What <c>bamflow stats</c> prints for these statistics: flagstat's text, extended when <see cref="Extended"/> is there.</summary>
    public string ToText() => Extended is null ? Flags.ToText() : Extended.ToExtendedText(References!);

    /// <summary>What <c>bamflow stats --json</c> prints: flagstat's JSON document, extended when <see cref="Extended"/> is there, and the origin when there is one.</summary>
    public string ToJson() => Extended is null ? Flags.ToJson(Origin) : Extended.ToExtendedJson(References!, Origin);

    private static void CheckOrigins(IReadOnlyList<StatisticsPart> parts, string[] names)
    {
        var shards = new List<int>();
        var wholes = new List<int>();
        for (int i = 0; i < parts.Count; i++)
        {
            (parts[i].Origin is null ? wholes : shards).Add(i);
        }

        if (shards.Count == 0)
        {
            return;
        }

        if (wholes.Count > 0)
        {
            throw StatisticsPartException.MixedOrigins([.. shards.Select(i => names[i])], [.. wholes.Select(i => names[i])]);
        }

        ShardOrigin first = parts[0].Origin!;
        for (int i = 1; i < parts.Count; i++)
        {
            ShardOrigin origin = parts[i].Origin!;
            if (origin.Bytes != first.Bytes || Path.GetFileName(origin.Input) != Path.GetFileName(first.Input))
            {
                throw StatisticsPartException.DifferentInputs(names[0], first, names[i], origin);
            }

            if (origin.Shards != first.Shards)
            {
                throw StatisticsPartException.DifferentShardCounts(names[0], first, names[i], origin);
            }
        }

        foreach (IGrouping<int, int> shard in Enumerable.Range(0, parts.Count).GroupBy(i => parts[i].Origin!.Shard).OrderBy(g => g.Key))
        {
            if (shard.Count() > 1)
            {
                throw StatisticsPartException.DuplicateShard(parts[shard.First()].Origin!, [.. shard.Select(i => names[i])]);
            }
        }

        var given = new HashSet<int>(parts.Select(part => part.Origin!.Shard));
        int[] missing = [.. Enumerable.Range(1, first.Shards).Where(shard => !given.Contains(shard))];
        if (missing.Length > 0)
        {
            throw StatisticsPartException.MissingShard(first, missing, names);
        }
    }

    private static string? Difference(IReadOnlyList<BamReference> a, IReadOnlyList<BamReference> b)
    {
        for (int id = 0; id < Math.Min(a.Count, b.Count); id++)
        {
            if (a[id].Name != b[id].Name || a[id].Length != b[id].Length)
            {
                return $"reference {id + 1} is {b[id].Name} ({b[id].Length} bp), not {a[id].Name} ({a[id].Length} bp)";
            }
        }

        return a.Count == b.Count ? null : $"{b.Count} references, not {a.Count}";
    }

    /// <summary>The properties of an object, each key once (<see cref="JsonDocument"/> would keep both of a duplicate).</summary>
    private static List<JsonProperty> Properties(JsonElement element, string file, string path)
    {
        var properties = new List<JsonProperty>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw StatisticsPartException.UnknownKey(file, path + property.Name, twice: true);
            }

            properties.Add(property);
        }

        return properties;
    }

    private static void ReadCounts(FlagCounts counts, JsonElement? element, string key, string file)
    {
        if (element is not { } value)
        {
            throw StatisticsPartException.MissingKey(file, key, "");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw StatisticsPartException.BadValue(file, key, Describe(value), "flagstat's counters, an object, are expected");
        }

        var found = new bool[s_counters.Length];
        foreach (JsonProperty property in Properties(value, file, key + "/"))
        {
            string path = key + "/" + property.Name;
            int index = Array.FindIndex(s_counters, c => c.Key == property.Name);
            if (index >= 0)
            {
                s_counters[index].Set(counts, Count(property.Value, path, file));
                found[index] = true;
            }
            else if (s_percentages.Contains(property.Name))
            {
                if (property.Value.ValueKind is not (JsonValueKind.Number or JsonValueKind.Null))
                {
                    throw StatisticsPartException.BadValue(file, path, Describe(property.Value), "a percentage (a number, or null) is expected");
                }
            }
            else
            {
                throw StatisticsPartException.UnknownKey(file, path, twice: false);
            }
        }

        int absent = Array.IndexOf(found, false);
        if (absent >= 0)
        {
            throw StatisticsPartException.MissingKey(file, key + "/" + s_counters[absent].Key, "");
        }
    }

    private static void ReadHistogram(JsonElement element, string key, int maximum, string file, Action<int, long> add)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw StatisticsPartException.BadValue(file, key, Describe(element), "an object from value to records is expected");
        }

        foreach (JsonProperty property in Properties(element, file, key + "/"))
        {
            string path = key + "/" + property.Name;
            if (!int.TryParse(property.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value > maximum
                || value.ToString(CultureInfo.InvariantCulture) != property.Name)
            {
                throw StatisticsPartException.BadValue(file, path, $"a key \"{property.Name}\"", $"the keys of \"{key}\" are whole numbers 0–{maximum.ToString("N0", CultureInfo.InvariantCulture)}, without leading zeros");
            }

            add(value, Count(property.Value, path, file));
        }
    }

    private static List<BamReference> ReadReferences(JsonElement element, ReferenceCounts counts, string file)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
        {
            throw StatisticsPartException.BadValue(file, ReferencesKey, Describe(element), "an array of references, the last one '*', is expected");
        }

        var references = new List<BamReference>();
        int last = element.GetArrayLength() - 1;
        int id = 0;
        foreach (JsonElement entry in element.EnumerateArray())
        {
            string path = $"{ReferencesKey}[{id}]";
            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw StatisticsPartException.BadValue(file, path, Describe(entry), "an object {\"name\", \"length\", \"mapped\", \"unmapped\"} is expected");
            }

            string? name = null;
            long? length = null, mapped = null, unmapped = null;
            foreach (JsonProperty property in Properties(entry, file, path + "/"))
            {
                string key = path + "/" + property.Name;
                switch (property.Name)
                {
                    case "name":
                        name = property.Value.ValueKind == JsonValueKind.String
                            ? property.Value.GetString()
                            : throw StatisticsPartException.BadValue(file, key, Describe(property.Value), "a reference name, a string, is expected");
                        break;
                    case "length":
                        // l_ref as samtools idxstats prints it: an unsigned 32-bit number.
                        length = Count(property.Value, key, file);
                        if (length > uint.MaxValue)
                        {
                            throw StatisticsPartException.BadValue(file, key, Describe(property.Value), "a reference length is at most 4,294,967,295");
                        }

                        break;
                    case "mapped": mapped = Count(property.Value, key, file); break;
                    case "unmapped": unmapped = Count(property.Value, key, file); break;
                    default: throw StatisticsPartException.UnknownKey(file, key, twice: false);
                }
            }

            string? absent = name is null ? "name" : length is null ? "length" : mapped is null ? "mapped" : unmapped is null ? "unmapped" : null;
            if (absent is not null)
            {
                throw StatisticsPartException.MissingKey(file, path + "/" + absent, "");
            }

            if (id == last)
            {
                if (name != "*" || length != 0)
                {
                    throw StatisticsPartException.BadValue(file, path, $"{{\"name\": \"{name}\", \"length\": {length}}}", "the last reference is '*' (no reference), of length 0");
                }

                counts.Add(-1, mapped!.Value, unmapped!.Value);
            }
            else
            {
                references.Add(new BamReference(Encoding.UTF8.GetBytes(name!), length!.Value));
                counts.Add(id, mapped!.Value, unmapped!.Value);
            }

            id++;
        }

        return references;
    }

    private static ShardOrigin ReadOrigin(JsonElement element, string file)
    {
        const string Key = ShardOrigin.JsonKey;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw StatisticsPartException.BadValue(file, Key, Describe(element), "an object {\"input\", \"bytes\", \"shard\", \"shards\"} is expected");
        }

        string? input = null;
        long? bytes = null, shard = null, shards = null;
        foreach (JsonProperty property in Properties(element, file, Key + "/"))
        {
            string path = Key + "/" + property.Name;
            switch (property.Name)
            {
                case "input":
                    input = property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is { Length: > 0 } text
                        ? text
                        : throw StatisticsPartException.BadValue(file, path, Describe(property.Value), "the input's path, a string, is expected");
                    break;
                case "bytes": bytes = Count(property.Value, path, file); break;
                case "shard": shard = Count(property.Value, path, file); break;
                case "shards": shards = Count(property.Value, path, file); break;
                default: throw StatisticsPartException.UnknownKey(file, path, twice: false);
            }
        }

        string? absent = input is null ? "input" : bytes is null ? "bytes" : shard is null ? "shard" : shards is null ? "shards" : null;
        if (absent is not null)
        {
            throw StatisticsPartException.MissingKey(file, Key + "/" + absent, "");
        }

        if (shards is < 1 or > int.MaxValue)
        {
            throw StatisticsPartException.BadValue(file, Key + "/shards", Text(shards!.Value), "the number of shards is 1 or more");
        }

        if (shard < 1 || shard > shards)
        {
            throw StatisticsPartException.BadValue(file, Key + "/shard", Text(shard!.Value), $"shards are numbered 1 to {shards}");
        }

        return new ShardOrigin(input!, bytes!.Value, (int)shard!.Value, (int)shards!.Value);
    }

    /// <summary>A count: a whole number, 0 or more, that fits in 64 bits.</summary>
    private static long Count(JsonElement value, string path, string file) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long count) && count >= 0
            ? count
            : throw StatisticsPartException.BadValue(file, path, Describe(value), "a count, a whole number 0 or more, is expected");

    private static string Describe(JsonElement value)
    {
        string raw = value.GetRawText();
        return value.ValueKind is JsonValueKind.Object or JsonValueKind.Array || raw.Length > 40 ? $"a JSON {Kind(value)}" : raw;
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
