using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Benchmarks.Bam;

namespace Bamflow.Benchmarks.Arrow;

/// <summary>
/// The naive batch builder: each record decoded by <see cref="NaiveDecoder"/> into strings, appended to
/// Apache.Arrow's own builders (new builders per batch); reference names as plain strings, tags as one SAM-text
/// string per record. Same column names as Bamflow's for the columns the checksum compares.
/// </summary>
public sealed class NaiveBatchBuilder
{
    private readonly BamHeader _header;

    /// <summary>Creates a builder for records of <paramref name="header"/>.</summary>
    public NaiveBatchBuilder(BamHeader header)
    {
        _header = header;
        Schema = new Schema(
            [
                new Field(BamColumns.QName, StringType.Default, nullable: true),
                new Field(BamColumns.Flag, UInt16Type.Default, nullable: false),
                new Field(BamColumns.RName, StringType.Default, nullable: true),
                new Field(BamColumns.Pos, Int32Type.Default, nullable: true),
                new Field(BamColumns.Mapq, UInt8Type.Default, nullable: true),
                new Field(BamColumns.Cigar, StringType.Default, nullable: true),
                new Field(BamColumns.RNext, StringType.Default, nullable: true),
                new Field(BamColumns.PNext, Int32Type.Default, nullable: true),
                new Field(BamColumns.Tlen, Int32Type.Default, nullable: false),
                new Field(BamColumns.Seq, StringType.Default, nullable: true),
                new Field(BamColumns.Qual, StringType.Default, nullable: true),
                new Field(BamColumns.TagsOther, StringType.Default, nullable: true),
            ],
            metadata: null);
    }

    /// <summary>The naive schema.</summary>
    public Schema Schema { get; }

    /// <summary>Builds one batch from <paramref name="length"/> bytes of records at <paramref name="offset"/>.</summary>
    public RecordBatch Build(byte[] records, int offset, int length)
    {
        var qname = new StringArray.Builder();
        var flag = new UInt16Array.Builder();
        var rname = new StringArray.Builder();
        var pos = new Int32Array.Builder();
        var mapq = new UInt8Array.Builder();
        var cigar = new StringArray.Builder();
        var rnext = new StringArray.Builder();
        var pnext = new Int32Array.Builder();
        var tlen = new Int32Array.Builder();
        var seq = new StringArray.Builder();
        var qual = new StringArray.Builder();
        var tags = new StringArray.Builder();

        using var reader = new BinaryReader(new MemoryStream(records, offset, length, writable: false));
        int rows = 0;
        while (NaiveDecoder.Read(reader) is { } record)
        {
            AppendText(qname, record.ReadName);
            flag.Append((ushort)record.Flag);
            AppendText(rname, record.ReferenceId < 0 ? "*" : _header.References[record.ReferenceId].Name);
            AppendPosition(pos, record.Position);
            if (record.MappingQuality == 255)
            {
                mapq.AppendNull();
            }
            else
            {
                mapq.Append((byte)record.MappingQuality);
            }

            AppendText(cigar, record.Cigar);
            AppendText(rnext, record.MateReferenceId < 0 ? "*" : _header.References[record.MateReferenceId].Name);
            AppendPosition(pnext, record.MatePosition);
            tlen.Append(record.TemplateLength);
            AppendText(seq, record.Sequence);
            AppendText(qual, record.Quality);
            string tagText = record.TagsAsSamText();
            AppendText(tags, tagText.Length == 0 ? "*" : tagText);
            rows++;
        }

        return new RecordBatch(Schema,
            [qname.Build(), flag.Build(), rname.Build(), pos.Build(), mapq.Build(), cigar.Build(), rnext.Build(), pnext.Build(), tlen.Build(), seq.Build(), qual.Build(), tags.Build()],
            rows);
    }

    private static void AppendText(StringArray.Builder builder, string value)
    {
        if (value == "*")
        {
            builder.AppendNull();
        }
        else
        {
            builder.Append(value);
        }
    }

    private static void AppendPosition(Int32Array.Builder builder, int position)
    {
        if (position < 0)
        {
            builder.AppendNull();
        }
        else
        {
            builder.Append(position + 1);
        }
    }
}
