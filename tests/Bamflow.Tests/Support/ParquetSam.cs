using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Parquet;
using DuckDB.NET.Data;

namespace Bamflow.Tests.Support;

/// <summary>
/// Reads Bamflow's Parquet files with DuckDB (an independent, native Parquet reader that the target users query
/// with) and renders each row as a SAM line, typing the tag values from the file's <c>sam.tag_types</c> key-value
/// metadata (a Parquet reader never sees Arrow field metadata).
/// </summary>
public static class ParquetSam
{
    /// <summary>Converts <paramref name="path"/> to a Parquet file at <paramref name="output"/> through <see cref="OutputTarget"/>, as the CLI does.</summary>
    public static ConversionSummary Convert(string path, string output, ConversionOptions? conversion = null, PipelineOptions? pipeline = null, ParquetSinkOptions? sink = null)
    {
        using BamReader reader = BamReader.Open(path);
        return ConvertAsync(reader, output, conversion, pipeline, sink).GetAwaiter().GetResult();
    }

    private static async Task<ConversionSummary> ConvertAsync(BamReader reader, string output, ConversionOptions? conversion, PipelineOptions? pipeline, ParquetSinkOptions? sinkOptions)
    {
        await using OutputTarget target = OutputTarget.Open(output);
        ConversionSummary summary;
        await using (var sink = new ParquetSink(target.Stream, sinkOptions))
        {
            summary = await new BamArrowPipeline(conversion, pipeline).RunAsync(reader, sink, null, TestContext.Current.CancellationToken);
        }

        await target.CommitAsync(TestContext.Current.CancellationToken);
        return summary;
    }

    /// <summary>A DuckDB connection (in memory, one thread).</summary>
    public static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        Execute(connection, "SET threads = 1");
        return connection;
    }

    /// <summary>The file's key-value metadata, as DuckDB's <c>parquet_kv_metadata</c> shows it.</summary>
    public static Dictionary<string, string> KeyValueMetadata(string parquet)
    {
        using DuckDBConnection connection = Open();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (object?[] row in Query(connection, $"SELECT key, value FROM parquet_kv_metadata({Quote(parquet)})"))
        {
            metadata[Text(row[0])] = Text(row[1]);
        }

        return metadata;
    }

    /// <summary>Rows of a query, each as its column values (DBNull as null).</summary>
    public static List<object?[]> Query(DuckDBConnection connection, string sql)
    {
        using DuckDBCommand command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                // A BLOB comes as a stream over DuckDB's result memory, which the next chunk of rows (or closing
                // the reader) frees: copy it now. (Read later, it was once all zero bytes.)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i) is Stream blob ? ReadBytes(blob) : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Runs a statement.</summary>
    public static void Execute(DuckDBConnection connection, string sql)
    {
        using DuckDBCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The column names DuckDB sees, in order.</summary>
    public static List<string> Columns(string parquet)
    {
        using DuckDBConnection connection = Open();
        return Query(connection, $"DESCRIBE SELECT * FROM read_parquet({Quote(parquet)})").Select(r => Text(r[0])).ToList();
    }

    /// <summary>
    /// Every row of the file in file order (DuckDB's <c>file_row_number</c>), rendered as a SAM line. A tag value
    /// whose DuckDB type does not match its SAM type in <c>sam.tag_types</c> fails the test.
    /// </summary>
    public static List<ArrowSam.Line> Lines(string parquet)
    {
        Dictionary<string, string> tagTypes = TagTypes(parquet);
        Dictionary<string, string> tagNames = TagNames(parquet);
        Assert.Equal(tagTypes.Keys, tagNames.Keys);
        using DuckDBConnection connection = Open();
        using DuckDBCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT * EXCLUDE (file_row_number) FROM read_parquet({Quote(parquet)}, file_row_number = true) ORDER BY file_row_number";
        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => i, StringComparer.Ordinal);
        var lines = new List<ArrowSam.Line>();
        while (reader.Read())
        {
            object? Value(string name) => columns.TryGetValue(name, out int i) && !reader.IsDBNull(i) ? reader.GetValue(i) : null;
            string Number(object? value, string absent) => value is null ? absent : System.Convert.ToString(value, CultureInfo.InvariantCulture)!;

            string rname = (string?)Value("rname") ?? "*";
            string? rnextName = (string?)Value("rnext");
            string rnext = rnextName is null ? "*" : rnextName == rname && rname != "*" ? "=" : rnextName;
            var fields = new[]
            {
                (string?)Value("qname") ?? "*",
                Number((ushort)Value("flag")!, ""),
                rname,
                Number((int?)Value("pos"), "0"),
                Number((byte?)Value("mapq"), "255"),
                (string?)Value("cigar") ?? "*",
                rnext,
                Number((int?)Value("pnext"), "0"),
                Number((int)Value("tlen")!, ""),
                columns.ContainsKey("seq") ? (string?)Value("seq") ?? "*" : "(no seq)",
                columns.ContainsKey("qual") ? (string?)Value("qual") ?? "*" : "(no qual)",
            };

            var tags = new List<string>();
            if (Value("tags") is IDictionary tagValues)
            {
                // DuckDB must see exactly the children sam.tag_names lists, in that order: no child renamed by
                // DuckDB (as it renames the second of two names that differ only in case to "bc_1").
                Assert.Equal(tagNames.Keys, tagValues.Keys.Cast<string>());
                foreach ((string child, string tag) in tagNames)
                {
                    if (tagValues[child] is { } value and not DBNull)
                    {
                        tags.Add(tag + ":" + TagText(tagTypes[child], value, tag));
                    }
                }
            }

            if (Value("tags_other") is string other)
            {
                tags.AddRange(other.Split('\t'));
            }

            lines.Add(new ArrowSam.Line(string.Join('\t', fields), [.. tags.Order(StringComparer.Ordinal)]));
        }

        return lines;
    }

    /// <summary>The <c>sam.tag_types</c> metadata (child name → SAM type), parsed.</summary>
    public static Dictionary<string, string> TagTypes(string parquet) => JsonObject(KeyValueMetadata(parquet)[ParquetSink.TagTypesKey]);

    /// <summary>The <c>sam.tag_names</c> metadata (child name → exact SAM tag), parsed.</summary>
    public static Dictionary<string, string> TagNames(string parquet) => JsonObject(KeyValueMetadata(parquet)[ParquetSink.TagNamesKey]);

    private static Dictionary<string, string> JsonObject(string json)
    {
        // In file order (a Dictionary keeps insertion order while nothing is removed).
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
    }

    /// <summary>Row groups as (rows, compression of every column chunk, encodings per column path).</summary>
    public static List<(long Rows, string[] Compression, Dictionary<string, string> Encodings)> RowGroups(string parquet)
    {
        using DuckDBConnection connection = Open();
        return Query(connection, $"SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings FROM parquet_metadata({Quote(parquet)}) ORDER BY row_group_id, column_id")
            .GroupBy(r => System.Convert.ToInt64(r[0], CultureInfo.InvariantCulture))
            .Select(g => (
                System.Convert.ToInt64(g.First()[1], CultureInfo.InvariantCulture),
                g.Select(r => Text(r[3])).Distinct().ToArray(),
                g.ToDictionary(r => Text(r[2]).Replace(", ", ".", StringComparison.Ordinal), r => Text(r[4]), StringComparer.Ordinal)))
            .ToList();
    }

    /// <summary>A path as a SQL string literal.</summary>
    public static string Quote(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A tag value DuckDB read, as SAM text after the tag ("i:3", "Z:foo", "B:C,1,2"); fails when its type is not <paramref name="samType"/>.</summary>
    public static string TagText(string samType, object value, string tag)
    {
        string Fail() => throw new InvalidOperationException($"tag {tag}: sam.tag_types says {samType} but DuckDB read a {value.GetType().Name}");
        switch (samType)
        {
            case "i":
                return value is long i ? "i:" + i.ToString(CultureInfo.InvariantCulture) : Fail();
            case "f":
                return value is float f ? "f:" + Float(f) : Fail();
            case "A" or "Z" or "H":
                return value is string s ? samType + ":" + s : Fail();
            case BamColumns.MixedType:
                return value is string m ? m : Fail();
            default:
                Type? expected = samType switch
                {
                    "B:c" => typeof(List<sbyte>),
                    "B:C" => typeof(List<byte>),
                    "B:s" => typeof(List<short>),
                    "B:S" => typeof(List<ushort>),
                    "B:i" => typeof(List<int>),
                    "B:I" => typeof(List<uint>),
                    "B:f" => typeof(List<float>),
                    _ => null,
                };
                if (expected is null || value.GetType() != expected)
                {
                    return Fail();
                }

                var text = new StringBuilder(samType);
                foreach (object element in (IEnumerable)value)
                {
                    text.Append(',').Append(element is float e ? Float(e) : System.Convert.ToString(element, CultureInfo.InvariantCulture));
                }

                return text.ToString();
        }
    }

    private static string Float(float value)
    {
        var buffer = new TextBuffer(32);
        SamFloatFormatter.Append(value, buffer);
        return Encoding.ASCII.GetString(buffer.WrittenSpan);
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        Stream stream => ReadAll(stream),
        _ => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private static byte[] ReadBytes(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Encoding.UTF8.GetString(copy.ToArray());
    }
}
