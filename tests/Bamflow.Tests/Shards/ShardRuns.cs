using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Shards;

/// <summary>Plans and converts shards in process, and renders what they wrote (schema as text, rows as SAM lines).</summary>
internal static class ShardRuns
{
    /// <summary>Plans <paramref name="shards"/> shards of <paramref name="path"/>.</summary>
    public static ShardPlan Plan(string path, int shards, bool useIndex, string? indexPath = null, ConversionOptions? conversion = null, int? maxRecordSize = null) =>
        ShardPlan.CreateAsync(path, shards, new ShardPlanOptions
        {
            UseIndex = useIndex,
            IndexPath = indexPath,
            Conversion = conversion ?? new ConversionOptions(),
            MaxRecordSize = maxRecordSize ?? BamRecordFraming.DefaultMaxRecordSize,
        }, cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();

    /// <summary>The whole-file conversion: schema text and rows.</summary>
    public static (string Schema, List<ArrowSam.Line> Lines) Whole(string path, ConversionOptions? conversion = null, int threads = 2) =>
        Render(Conversion.ToIpc(path, new BamArrowPipeline(conversion, new PipelineOptions { Threads = threads })).Ipc);

    /// <summary>Shard <paramref name="shard"/> (1-based) of <paramref name="plan"/> through <see cref="BamArrowPipeline.Shard"/>.</summary>
    public static (string Schema, List<ArrowSam.Line> Lines) Shard(string path, ShardPlan plan, int shard, ConversionOptions? conversion = null, int threads = 2) =>
        Render(Conversion.ToIpc(path, new BamArrowPipeline(conversion, new PipelineOptions { Threads = threads }).Shard(plan, shard)).Ipc);

    /// <summary>Every shard's rows, in order, and each shard's schema text.</summary>
    public static (List<string> Schemas, List<List<ArrowSam.Line>> Rows) AllShards(string path, ShardPlan plan, ConversionOptions? conversion = null, int threads = 2)
    {
        var schemas = new List<string>();
        var rows = new List<List<ArrowSam.Line>>();
        for (int k = 1; k <= plan.Count; k++)
        {
            (string schema, List<ArrowSam.Line> lines) = Shard(path, plan, k, conversion, threads);
            schemas.Add(schema);
            rows.Add(lines);
        }

        return (schemas, rows);
    }

    /// <summary>An Arrow IPC file's schema (as <see cref="Describe(Schema)"/>) and rows.</summary>
    public static (string Schema, List<ArrowSam.Line> Lines) Render(byte[] ipc)
    {
        using var reader = new ArrowFileReader(new MemoryStream(ipc));
        var batches = new List<RecordBatch>();
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            batches.Add(batch);
        }

        string schema = Describe(reader.Schema);
        List<ArrowSam.Line> lines = [.. ArrowSam.Lines(batches)];
        foreach (RecordBatch batch in batches)
        {
            batch.Dispose();
        }

        return (schema, lines);
    }

    /// <summary>Every field (name, type, nullability, metadata, recursively) and the schema's metadata, one per line.</summary>
    public static string Describe(Schema schema)
    {
        var text = new StringBuilder();
        foreach (Field field in schema.FieldsList)
        {
            Describe(field, text, "");
        }

        foreach ((string key, string value) in (schema.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append("schema metadata ").Append(key).Append('=').Append(value).Append('\n');
        }

        return text.ToString();
    }

    private static void Describe(Field field, StringBuilder text, string indent)
    {
        text.Append(indent).Append(field.Name).Append(": ").Append(TypeName(field.DataType)).Append(field.IsNullable ? " null" : " not null");
        foreach ((string key, string value) in (field.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(" [").Append(key).Append('=').Append(value).Append(']');
        }

        text.Append('\n');
        switch (field.DataType)
        {
            case StructType structType:
                foreach (Field child in structType.Fields)
                {
                    Describe(child, text, indent + "  ");
                }

                break;
            case ListType listType:
                Describe(listType.ValueField, text, indent + "  ");
                break;
        }
    }

    private static string TypeName(IArrowType type) => type switch
    {
        DictionaryType dictionary => $"dictionary<{TypeName(dictionary.IndexType)}, {TypeName(dictionary.ValueType)}, ordered={dictionary.Ordered}>",
        _ => type.Name,
    };

    /// <summary>Each record's start (the sequential reader's position before it), and its bytes.</summary>
    public static (List<VirtualPosition> Starts, List<byte[]> Records) ReadSequentially(string path)
    {
        using BamReader reader = BamReader.Open(path);
        var starts = new List<VirtualPosition>();
        var records = new List<byte[]>();
        while (true)
        {
            VirtualPosition at = reader.Position;
            if (!reader.TryReadBytes(out ReadOnlySpan<byte> data))
            {
                break;
            }

            starts.Add(at);
            records.Add(data.ToArray());
        }

        return (starts, records);
    }

    /// <summary>Fails naming the case, the shard and the first differing row, unless the shards' rows in order are <paramref name="whole"/>'s.</summary>
    public static void AssertConcatenation(IReadOnlyList<ArrowSam.Line> whole, IReadOnlyList<List<ArrowSam.Line>> shards, string context)
    {
        int row = 0;
        for (int k = 0; k < shards.Count; k++)
        {
            for (int i = 0; i < shards[k].Count; i++, row++)
            {
                Assert.True(row < whole.Count, $"{context}: shard {k + 1} has a row {i + 1} past the whole run's {whole.Count} rows: {shards[k][i]}");
                if (shards[k][i] != whole[row] && !(shards[k][i].Fields == whole[row].Fields && shards[k][i].Tags.SequenceEqual(whole[row].Tags)))
                {
                    Assert.Fail($"{context}: shard {k + 1} row {i + 1} (whole run row {row + 1}) differs:\n  whole: {whole[row]}\n  shard: {shards[k][i]}");
                }
            }
        }

        Assert.True(row == whole.Count, $"{context}: the shards hold {row} rows, the whole run {whole.Count} ({string.Join(", ", shards.Select(s => s.Count))} per shard)");
    }
}
