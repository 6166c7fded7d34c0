using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Bam.Shards;
using Bamflow.Bgzf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bamflow.Dataflow;

/// <summary>How a <see cref="ShardPlan"/> is made.</summary>
public sealed record ShardPlanOptions
{
    /// <summary>Whether to take record starts from the file's BAI/CSI index when it has one (else a block and record search finds every boundary).</summary>
    public bool UseIndex { get; init; } = true;

    /// <summary>The index to use (samtools' -X); null: the one beside the file, if any.</summary>
    public string? IndexPath { get; init; }

    /// <summary>The largest record the search accepts (<c>--max-record-size</c>).</summary>
    public int MaxRecordSize { get; init; } = BamRecordFraming.DefaultMaxRecordSize;

    /// <summary>The tag scan's options (<see cref="ConversionOptions.TagScanRecords"/>, <see cref="ConversionOptions.MaxBatchBytes"/>): a whole run with the same ones scans the same records.</summary>
    public ConversionOptions Conversion { get; init; } = new();

    /// <summary>The inflate backend.</summary>
    public BgzfInflaterKind Inflater { get; init; } = BgzfInflaterKind.Auto;

    /// <summary>
    /// Whether to scan the file's start for its tags (the schema every shard writes). False for a plan that only counts
    /// (statistics): its tag scan is then empty, and a conversion with it would have no tag columns.
    /// </summary>
    public bool ScanTags { get; init; } = true;
}

/// <summary>
/// N record-exact shards of one BAM file, for N independent jobs (<c>bamflow plan</c>; a cluster's workflow): each
/// shard a range of virtual offsets from a record start to the next shard's (<see cref="BamShardPlanner"/>: balanced by
/// compressed bytes, from the index or a block and record search), every record in exactly one shard. The plan also
/// holds the tag scan of the file's start, as a whole run makes it, so every shard converts to the same schema
/// (<see cref="BamArrowPipeline.Shard"/>), and the file's size and fingerprint, so that a plan of another version of the
/// file is refused (a copy is not). Stored as JSON (<see cref="ToJson"/>, <see cref="Parse"/>).
/// </summary>
public sealed partial class ShardPlan
{
    /// <summary>The format's version in the JSON (<c>"bamflow_shard_plan"</c>).</summary>
    public const int FormatVersion = 1;

    private ShardPlan(string input, long bytes, DateTime modifiedUtc, IReadOnlyList<VirtualPosition> starts, TagDiscovery tagScan)
    {
        Input = input;
        Bytes = bytes;
        ModifiedUtc = modifiedUtc;
        Starts = starts;
        TagScan = tagScan;
    }

    /// <summary>The planned file, as it was named.</summary>
    public string Input { get; }

    /// <summary>Its size in bytes when planned.</summary>
    public long Bytes { get; }

    /// <summary>Its modification time when planned.</summary>
    public DateTime ModifiedUtc { get; }

    /// <summary>Where each shard starts (0-based); <see cref="BgzfRange.EndOfFile"/>: past the last record (an empty shard).</summary>
    public IReadOnlyList<VirtualPosition> Starts { get; }

    /// <summary>The number of shards.</summary>
    public int Count => Starts.Count;

    /// <summary>The tag scan of the file's start: the tags every shard's schema has.</summary>
    public TagDiscovery TagScan { get; }

    /// <summary>Boundaries taken from the index.</summary>
    public int FromIndex { get; private init; }

    /// <summary>Boundaries found by a search.</summary>
    public int FromSearch { get; private init; }

    /// <summary>Compressed bytes planning read (header, tag scan, boundaries).</summary>
    public long BytesRead { get; private init; }

    /// <summary>How long planning took.</summary>
    public TimeSpan Elapsed { get; private init; }

    /// <summary>The index used, or null.</summary>
    public string? IndexPath { get; private init; }

    /// <summary>Shard <paramref name="shard"/>'s (1-based) range, or null when it holds no record.</summary>
    public BgzfRange? Range(int shard)
    {
        CheckShard(shard);
        VirtualPosition start = Starts[shard - 1];
        VirtualPosition end = shard < Count ? Starts[shard] : BgzfRange.EndOfFile;
        return start == BgzfRange.EndOfFile || start == end ? null : new BgzfRange(start, end);
    }

    /// <summary>The engine's pass for shard <paramref name="shard"/> (1-based): its range, every record in it.</summary>
    public ReadPass Pass(int shard) => new(Range(shard) is { } range ? [range] : [], null);

    /// <summary>Compressed bytes of shard <paramref name="shard"/> (1-based): from its start's block to the next shard's.</summary>
    public long CompressedLength(int shard)
    {
        if (Range(shard) is not { } range)
        {
            return 0;
        }

        long end = range.End == BgzfRange.EndOfFile ? Bytes : range.End.CompressedOffset;
        return end - range.Start.CompressedOffset;
    }

    private void CheckShard(int shard)
    {
        if (shard < 1 || shard > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"the plan has shards 1 to {Count}");
        }
    }

    /// <summary>
    /// The planned file's fingerprint: XxHash64 of its first and last 64 KiB (the header and the last blocks, which move
    /// whenever the file's contents change). With the size, what tells the planned file from another version of it; a
    /// copy (a download on another node, which gets a new modification time) keeps both.
    /// </summary>
    public string Fingerprint { get; private init; } = "";

    /// <summary>
    /// Refuses to read <paramref name="path"/> with this plan unless it is the planned file or a copy of it: the same size
    /// and <see cref="Fingerprint"/> (the modification time may differ: a copy on another node).
    /// </summary>
    /// <exception cref="ShardPlanException">The file differs from the one planned.</exception>
    public void CheckInput(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new ShardPlanException($"{path} does not exist", path);
        }

        string fingerprint = file.Length == Bytes ? FingerprintOf(path) : "";
        if (file.Length != Bytes || fingerprint != Fingerprint)
        {
            throw new ShardPlanException(
                $"{path} is not the file the plan was made of ({Input}: {Bytes:N0} bytes, fingerprint {Fingerprint}; this one: {file.Length:N0} bytes{(fingerprint.Length > 0 ? $", fingerprint {fingerprint}" : "")}): plan it again with 'bamflow plan'", path);
        }
    }

    /// <summary>XxHash64 of the first and the last 64 KiB of <paramref name="path"/> (the whole file when it is smaller), as hex.</summary>
    private static string FingerprintOf(string path)
    {
        const int Edge = 64 << 10;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        long length = file.Length;
        byte[] buffer = new byte[(int)Math.Min(length, 2 * Edge)];
        int head = (int)Math.Min(length, Edge);
        file.ReadExactly(buffer, 0, head);
        if (buffer.Length > head)
        {
            file.Position = length - (buffer.Length - head);
            file.ReadExactly(buffer, head, buffer.Length - head);
        }

        return System.IO.Hashing.XxHash64.HashToUInt64(buffer).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Plans <paramref name="shards"/> shards of the BAM file at <paramref name="path"/>: reads its header, the tag scan's
    /// records, and a few blocks around each boundary.
    /// </summary>
    /// <exception cref="BamFormatException">The file is not BAM, or is corrupt where planning reads it.</exception>
    /// <exception cref="BamIndexException">The index given by <see cref="ShardPlanOptions.IndexPath"/> is missing, stale or corrupt.</exception>
    public static async Task<ShardPlan> CreateAsync(string path, int shards, ShardPlanOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        options ??= new ShardPlanOptions();
        logger ??= NullLogger.Instance;
        long started = Stopwatch.GetTimestamp();
        var before = new FileInfo(path);
        BamIndex? index = OpenIndex(path, options, logger);

        using var inflater = BgzfInflater.Create(options.Inflater);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12, FileOptions.RandomAccess);
        VirtualPosition firstRecord;
        int referenceCount;
        (TagDiscovery Tags, long CompressedBytesRead) scan;
        using (BamReader reader = BamReader.Open(path, logger))
        {
            reader.MaxRecordSize = options.MaxRecordSize;
            firstRecord = reader.Position;
            referenceCount = reader.Header.References.Count;
            if (options.ScanTags)
            {
                var engine = new BamArrowPipeline(options.Conversion with { TagMode = TagMode.Discover }, new PipelineOptions { Threads = 1, Inflater = options.Inflater }, logger);
                scan = await engine.ScanTagsAsync(reader, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                scan = (new TagDiscovery(), 0);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        BamShardBoundaries boundaries = BamShardPlanner.Plan(file, path, firstRecord, referenceCount, shards, index, options.MaxRecordSize, inflater);
        var after = new FileInfo(path);
        string fingerprint = FingerprintOf(path);
        if (after.Length != before.Length || after.LastWriteTimeUtc != before.LastWriteTimeUtc)
        {
            throw new ShardPlanException($"{path} changed while it was being planned: plan it again once it is written", path);
        }

        return new ShardPlan(path, after.Length, after.LastWriteTimeUtc, boundaries.Starts, scan.Tags)
        {
            FromIndex = boundaries.FromIndex,
            FromSearch = boundaries.FromSearch,
            BytesRead = firstRecord.CompressedOffset + scan.CompressedBytesRead + boundaries.BytesRead,
            Elapsed = Stopwatch.GetElapsedTime(started),
            IndexPath = index?.FileName,
            Fingerprint = fingerprint,
        };
    }

    private static BamIndex? OpenIndex(string path, ShardPlanOptions options, ILogger logger)
    {
        if (!options.UseIndex)
        {
            return null;
        }

        if (options.IndexPath is not null)
        {
            return BamIndex.Open(path, options.IndexPath);
        }

        if (BamIndex.Locate(path) is null)
        {
            return null;
        }

        try
        {
            return BamIndex.Open(path, null);
        }
        catch (BamIndexException e)
        {
            LogIndexUnused(logger, e.Message);
            return null;
        }
    }

    /// <summary>The plan as JSON: the file, its shards (virtual offsets as integers; <c>end</c> null: the end of the file), the tag scan.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("bamflow_shard_plan", FormatVersion);
            json.WriteString("input", Input);
            json.WriteNumber("bytes", Bytes);
            json.WriteString("modified_utc", ModifiedUtc.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("fingerprint", Fingerprint);
            json.WriteNumber("shard_count", Count);
            json.WriteStartObject("planning");
            json.WriteString("index", IndexPath);
            json.WriteNumber("boundaries_from_index", FromIndex);
            json.WriteNumber("boundaries_from_search", FromSearch);
            json.WriteNumber("bytes_read", BytesRead);
            json.WriteNumber("seconds", Math.Round(Elapsed.TotalSeconds, 4));
            json.WriteEndObject();
            json.WriteStartObject("tag_scan");
            json.WriteNumber("records", TagScan.RecordsScanned);
            json.WriteStartArray("tags");
            foreach (TagColumn column in TagScan.Columns)
            {
                json.WriteStartObject();
                json.WriteString("tag", column.Tag);
                json.WriteString("type", column.SamType);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartArray("shards");
            for (int shard = 1; shard <= Count; shard++)
            {
                // Virtual offsets as integers (compressed offset << 16 | offset in the block); 18446744073709551615: past the
                // last record. end: the next shard's start, null for the end of the file.
                json.WriteStartObject();
                json.WriteNumber("shard", shard);
                json.WriteNumber("start", Starts[shard - 1].Value);
                if (shard < Count)
                {
                    json.WriteNumber("end", Starts[shard].Value);
                }
                else
                {
                    json.WriteNull("end");
                }

                json.WriteNumber("compressed_bytes", CompressedLength(shard));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Reads the plan <paramref name="path"/> (written by <see cref="ToJson"/>).</summary>
    /// <exception cref="ShardPlanException">Not a readable plan (the file and what is wrong are in the message).</exception>
    public static ShardPlan Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ShardPlanException($"cannot read the plan {path}: {e.Message}", path, e);
        }

        return Parse(text, path);
    }

    /// <summary>Reads a plan from its JSON text; <paramref name="planName"/> names it in messages.</summary>
    /// <exception cref="ShardPlanException">Not a plan, or a plan that contradicts itself.</exception>
    public static ShardPlan Parse(string json, string? planName)
    {
        ArgumentNullException.ThrowIfNull(json);
        string name = planName ?? "the plan";
        try
        {
            using var document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("bamflow_shard_plan", out JsonElement version))
            {
                throw new ShardPlanException($"{name} is not a bamflow shard plan (no \"bamflow_shard_plan\" key): make one with 'bamflow plan'", planName);
            }

            if (version.GetInt32() != FormatVersion)
            {
                throw new ShardPlanException($"{name} is a shard plan of version {version.GetInt32()}; this bamflow reads version {FormatVersion}: plan again", planName);
            }

            string input = Required(root, "input", name, planName).GetString() ?? throw Missing("input", name, planName);
            long bytes = Required(root, "bytes", name, planName).GetInt64();
            DateTime modified = DateTime.Parse(Required(root, "modified_utc", name, planName).GetString()!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind);
            JsonElement scan = Required(root, "tag_scan", name, planName);
            var columns = new List<TagColumn>();
            foreach (JsonElement tag in Required(scan, "tags", name, planName).EnumerateArray())
            {
                string tagName = Required(tag, "tag", name, planName).GetString()!;
                string type = Required(tag, "type", name, planName).GetString()!;
                columns.Add(TagColumn.Parse(tagName, type) ?? throw new ShardPlanException($"{name}: tag \"{tagName}\" has the type \"{type}\", which no tag column has", planName));
            }

            TagDiscovery discovery = TagDiscovery.FromColumns(columns, Required(scan, "records", name, planName).GetInt64());
            var starts = new List<VirtualPosition>();
            int number = 0;
            VirtualPosition previous = default;
            foreach (JsonElement shard in Required(root, "shards", name, planName).EnumerateArray())
            {
                number++;
                if (Required(shard, "shard", name, planName).GetInt32() != number)
                {
                    throw new ShardPlanException($"{name}: shard {number} is numbered {shard.GetProperty("shard").GetInt32()} (shards are 1, 2, … in file order)", planName);
                }

                var position = new VirtualPosition(Required(shard, "start", name, planName).GetUInt64());
                if (position < previous || (position != BgzfRange.EndOfFile && position.CompressedOffset >= bytes))
                {
                    throw new ShardPlanException($"{name}: shard {number} starts at virtual offset {position}, before the shard ahead of it or past the file's end", planName);
                }

                starts.Add(position);
                previous = position;
            }

            if (starts.Count == 0)
            {
                throw new ShardPlanException($"{name} has no shards", planName);
            }

            if (Required(root, "shard_count", name, planName).GetInt32() != starts.Count)
            {
                throw new ShardPlanException($"{name}: \"shard_count\" says {root.GetProperty("shard_count").GetInt32()}, and it lists {starts.Count} shards", planName);
            }

            JsonElement planning = Required(root, "planning", name, planName);
            return new ShardPlan(input, bytes, modified, starts, discovery)
            {
                Fingerprint = Required(root, "fingerprint", name, planName).GetString() ?? "",
                IndexPath = planning.TryGetProperty("index", out JsonElement index) && index.ValueKind == JsonValueKind.String ? index.GetString() : null,
                FromIndex = planning.TryGetProperty("boundaries_from_index", out JsonElement fromIndex) ? fromIndex.GetInt32() : 0,
                FromSearch = planning.TryGetProperty("boundaries_from_search", out JsonElement fromSearch) ? fromSearch.GetInt32() : 0,
                BytesRead = planning.TryGetProperty("bytes_read", out JsonElement read) ? read.GetInt64() : 0,
                Elapsed = TimeSpan.FromSeconds(planning.TryGetProperty("seconds", out JsonElement seconds) ? seconds.GetDouble() : 0),
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            throw new ShardPlanException($"{name} is not a valid shard plan: {e.Message}", planName, e);
        }
    }

    private static JsonElement Required(JsonElement element, string key, string name, string? planName) =>
        element.TryGetProperty(key, out JsonElement value) ? value : throw Missing(key, name, planName);

    private static ShardPlanException Missing(string key, string name, string? planName) => new($"{name} has no \"{key}\" (not a plan made by 'bamflow plan'?)", planName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Planning without the index: {Reason}")]
    private static partial void LogIndexUnused(ILogger logger, string reason);
}

/// <summary>A shard plan that cannot be read, or does not belong to the file it is used with.</summary>
public sealed class ShardPlanException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ShardPlanException(string message, string? fileName, Exception? innerException = null)
        : base(message, innerException) => FileName = fileName;

    /// <summary>The plan or BAM file it is about.</summary>
    public string? FileName { get; }
}
