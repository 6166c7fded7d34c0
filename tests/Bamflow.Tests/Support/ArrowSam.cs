using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Bamflow.Bam;

namespace Bamflow.Tests.Support;

/// <summary>
/// Renders the rows of Arrow record batches back into SAM lines, from the columns alone (the Arrow reader is
/// the oracle for the file; samtools for the values). Tags come back as a set: order in a record carries no meaning.
/// </summary>
public static class ArrowSam
{
    /// <summary>A SAM line split into its eleven mandatory fields and its tags (sorted).</summary>
    public sealed record Line(string Fields, string[] Tags)
    {
        public static Line Parse(string samLine)
        {
            string[] parts = samLine.Split('\t');
            return new Line(string.Join('\t', parts.Take(11)), [.. parts.Skip(11).Order(StringComparer.Ordinal)]);
        }

        public override string ToString() => Tags.Length == 0 ? Fields : Fields + "\t" + string.Join('\t', Tags);
    }

    /// <summary>Reads every batch of an Arrow IPC file or stream.</summary>
    public static List<RecordBatch> ReadAll(byte[] ipc, bool stream)
    {
        var batches = new List<RecordBatch>();
        using ArrowStreamReader reader = stream ? new ArrowStreamReader(new MemoryStream(ipc)) : new ArrowFileReader(new MemoryStream(ipc));
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            batches.Add(batch);
        }

        return batches;
    }

    /// <summary>Every row of <paramref name="batches"/> as a SAM line.</summary>
    public static IEnumerable<Line> Lines(IEnumerable<RecordBatch> batches)
    {
        foreach (RecordBatch batch in batches)
        {
            for (int row = 0; row < batch.Length; row++)
            {
                yield return Render(batch, row);
            }
        }
    }

    /// <summary>Renders one row.</summary>
    public static Line Render(RecordBatch batch, int row)
    {
        string? Str(string column) => batch.Schema.GetFieldIndex(column, StringComparer.Ordinal) < 0 ? null : ((StringArray)batch.Column(column)).GetString(row);
        string? Ref(string column)
        {
            var dict = (DictionaryArray)batch.Column(column);
            var indices = (Int32Array)dict.Indices;
            return indices.IsNull(row) ? null : ((StringArray)dict.Dictionary).GetString(indices.GetValue(row)!.Value);
        }

        int? Int(string column) => ((Int32Array)batch.Column(column)).GetValue(row);

        string rname = Ref("rname") ?? "*";
        string? rnextName = Ref("rnext");
        string rnext = rnextName is null ? "*" : rnextName == rname && rname != "*" ? "=" : rnextName;
        var fields = new[]
        {
            Str("qname") ?? "*",
            ((UInt16Array)batch.Column("flag")).GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            rname,
            (Int(("pos")) ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (((UInt8Array)batch.Column("mapq")).GetValue(row) ?? 255).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Str("cigar") ?? "*",
            rnext,
            (Int("pnext") ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Int("tlen")!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            batch.Schema.GetFieldIndex("seq", StringComparer.Ordinal) < 0 ? "(no seq)" : Str("seq") ?? "*",
            batch.Schema.GetFieldIndex("qual", StringComparer.Ordinal) < 0 ? "(no qual)" : Str("qual") ?? "*",
        };

        var tags = new List<string>();
        if (batch.Schema.GetFieldIndex("tags", StringComparer.Ordinal) >= 0)
        {
            var tagStruct = (StructArray)batch.Column("tags");
            var type = (StructType)tagStruct.Data.DataType;
            for (int i = 0; i < type.Fields.Count; i++)
            {
                Field field = type.Fields[i];
                if (TagText(tagStruct.Fields[i], field, row) is { } text)
                {
                    // The exact SAM tag: a child whose tag differs from another only in case is renamed (NM_uu, nM_lu).
                    tags.Add(field.Metadata["sam.tag"] + ":" + text);
                }
            }
        }

        if (Str("tags_other") is { } other)
        {
            tags.AddRange(other.Split('\t'));
        }

        return new Line(string.Join('\t', fields), [.. tags.Order(StringComparer.Ordinal)]);
    }

    private static string? TagText(IArrowArray array, Field field, int row)
    {
        if (array.IsNull(row))
        {
            return null;
        }

        string samType = field.Metadata["sam.type"];
        switch (array)
        {
            case Int64Array ints:
                return "i:" + ints.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            case FloatArray floats:
                return "f:" + Float(floats.GetValue(row)!.Value);
            case StringArray strings:
                return samType == "mixed" ? strings.GetString(row) : samType + ":" + strings.GetString(row);
            case ListArray list:
                var text = new StringBuilder("B:").Append(samType[2]);
                IArrowArray values = list.GetSlicedValues(row);
                for (int i = 0; i < values.Length; i++)
                {
                    text.Append(',').Append(values switch
                    {
                        FloatArray f => Float(f.GetValue(i)!.Value),
                        Int8Array a => a.GetValue(i)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        UInt8Array a => a.GetValue(i)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Int16Array a => a.GetValue(i)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        UInt16Array a => a.GetValue(i)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Int32Array a => a.GetValue(i)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        UInt32Array a => a.GetValue(i)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => throw new InvalidOperationException($"unexpected list element type {values.Data.DataType.Name}"),
                    });
                }

                return text.ToString();
            default:
                throw new InvalidOperationException($"unexpected tag column type {array.Data.DataType.Name} for {field.Name}");
        }
    }

    private static string Float(float value)
    {
        // samtools' float text (htslib kputd), reproduced by SamFloatFormatter and verified against samtools elsewhere.
        var buffer = new TextBuffer(32);
        SamFloatFormatter.Append(value, buffer);
        return Encoding.ASCII.GetString(buffer.WrittenSpan);
    }

    /// <summary>samtools view's records of <paramref name="path"/> (optionally only in <paramref name="regions"/>), as lines with sorted tags.</summary>
    public static List<Line> SamtoolsLines(string path, params string[] regions) => SamtoolsView([], path, regions);

    /// <summary><c>samtools view --no-PG OPTIONS PATH REGIONS</c> as lines.</summary>
    public static List<Line> SamtoolsView(string[] options, string path, params string[] regions)
    {
        (int code, byte[] stdout, string stderr) = Samtools.Run(null, ["view", "--no-PG", .. options, path, .. regions]);
        Assert.True(code == 0, $"samtools view {string.Join(' ', options)} {path} failed: {stderr}");
        return Encoding.UTF8.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Line.Parse).ToList();
    }

    /// <summary>Fails at the first row that differs, naming the case, the row and the column.</summary>
    public static void AssertSame(IReadOnlyList<Line> expected, IReadOnlyList<Line> actual, string context)
    {
        for (int i = 0; i < Math.Min(expected.Count, actual.Count); i++)
        {
            if (expected[i].Fields != actual[i].Fields)
            {
                SamComparison.AssertSameLine(Encoding.UTF8.GetBytes(expected[i].Fields), Encoding.UTF8.GetBytes(actual[i].Fields), $"{context} @ row {i + 1}");
            }

            if (!expected[i].Tags.SequenceEqual(actual[i].Tags))
            {
                Assert.Fail($"{context} @ row {i + 1}: tags differ: samtools [{string.Join(' ', expected[i].Tags.Except(actual[i].Tags))}] vs Bamflow [{string.Join(' ', actual[i].Tags.Except(expected[i].Tags))}]");
            }
        }

        Assert.True(expected.Count == actual.Count, $"{context}: samtools has {expected.Count} records, the Arrow output {actual.Count}");
    }
}
