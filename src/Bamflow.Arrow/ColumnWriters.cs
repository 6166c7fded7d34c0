using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Bam;

namespace Bamflow.Arrow;

// The writers of BamColumnTable's columns, straight from the record bytes (no strings). Each reads what it needs
// from the record view; the reads are fixed-offset loads, so a column that another also reads (flag, pos, cigar for
// end) costs no more than passing the value along would.

/// <summary>qname: QNAME, null when '*'.</summary>
internal sealed class QNameWriter(ColumnWriterContext context) : ColumnWriter
{
    private readonly Utf8Column _values = new(context.Pool, context.Rows, context.Rows * 24);

    public override void Append(in BamRecord record)
    {
        ReadOnlySpan<byte> name = record.ReadName;
        if (name.Length == 1 && name[0] == (byte)'*')
        {
            _values.AppendNull();
        }
        else
        {
            _values.Append(name);
        }
    }

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>flag: FLAG.</summary>
internal sealed class FlagWriter(ColumnWriterContext context, Field field) : ColumnWriter
{
    private readonly PrimitiveColumn<ushort> _values = new(context.Pool, context.Rows, field.DataType);

    public override void Append(in BamRecord record) => _values.Append(record.Flag);

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>rname or rnext: refID or next_refID as an index into the header's references, null when -1.</summary>
internal sealed class ReferenceWriter(ColumnWriterContext context, Field field, bool mate) : ColumnWriter
{
    private readonly DictionaryType _type = (DictionaryType)field.DataType;
    private readonly PrimitiveColumn<int> _indices = new(context.Pool, context.Rows, ((DictionaryType)field.DataType).IndexType);
    private readonly StringArray _dictionary = context.Schema.ReferenceDictionary;

    public override void Append(in BamRecord record)
    {
        int refId = mate ? record.MateReferenceId : record.ReferenceId;
        if (refId < 0)
        {
            _indices.AppendNull();
        }
        else
        {
            _indices.Append(refId);
        }
    }

    public override IArrowArray Build(int count) => new DictionaryArray(_type, _indices.Build(), _dictionary);
}

/// <summary>pos or pnext: POS or PNEXT, 1-based, null when unplaced (-1).</summary>
internal sealed class PositionWriter(ColumnWriterContext context, Field field, bool mate) : ColumnWriter
{
    private readonly PrimitiveColumn<int> _values = new(context.Pool, context.Rows, field.DataType);

    public override void Append(in BamRecord record)
    {
        int position = mate ? record.MatePosition : record.Position;
        if (position < 0)
        {
            _values.AppendNull();
        }
        else
        {
            _values.Append(position + 1);
        }
    }

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>mapq: MAPQ, null when 255 (SAMv1 §1.4: unavailable).</summary>
internal sealed class MapqWriter(ColumnWriterContext context, Field field) : ColumnWriter
{
    private readonly PrimitiveColumn<byte> _values = new(context.Pool, context.Rows, field.DataType);

    public override void Append(in BamRecord record)
    {
        byte mapq = record.MappingQuality;
        if (mapq == 255)
        {
            _values.AppendNull();
        }
        else
        {
            _values.Append(mapq);
        }
    }

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>cigar: CIGAR as text, null when absent.</summary>
internal sealed class CigarWriter(ColumnWriterContext context) : ColumnWriter
{
    private readonly Utf8Column _values = new(context.Pool, context.Rows, context.Rows * 8);

    public override void Append(in BamRecord record)
    {
        ReadOnlySpan<byte> cigar = record.Cigar;
        if (cigar.IsEmpty)
        {
            _values.AppendNull();
        }
        else
        {
            int length = CigarDecoder.TextLength(cigar);
            _values.Data.Commit(CigarDecoder.Format(cigar, _values.Data.Reserve(length)));
            _values.EndValue();
        }
    }

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>tlen: TLEN.</summary>
internal sealed class TlenWriter(ColumnWriterContext context, Field field) : ColumnWriter
{
    private readonly PrimitiveColumn<int> _values = new(context.Pool, context.Rows, field.DataType);

    public override void Append(in BamRecord record) => _values.Append(record.TemplateLength);

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>seq: SEQ as text, null when '*' (l_seq 0).</summary>
internal sealed class SeqWriter(ColumnWriterContext context) : ColumnWriter
{
    private readonly Utf8Column _values = new(context.Pool, context.Rows, context.Rows * 150);

    public override void Append(in BamRecord record)
    {
        int length = record.SequenceLength;
        if (length == 0)
        {
            _values.AppendNull();
        }
        else
        {
            SequenceDecoder.Decode(record.PackedSequence, length, _values.Data.Reserve(length));
            _values.Data.Commit(length);
            _values.EndValue();
        }
    }

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>qual: QUAL as Phred+33 text, null when '*' (absent, or the first byte 0xFF).</summary>
internal sealed class QualWriter(ColumnWriterContext context) : ColumnWriter
{
    private readonly Utf8Column _values = new(context.Pool, context.Rows, context.Rows * 150);

    public override void Append(in BamRecord record)
    {
        if (!record.HasQuality)
        {
            _values.AppendNull();
        }
        else
        {
            int length = record.SequenceLength;
            QualityDecoder.ToPhred33(record.Quality, _values.Data.Reserve(length));
            _values.Data.Commit(length);
            _values.EndValue();
        }
    }

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>end: the 1-based inclusive reference end from POS and CIGAR, null when unmapped, without CIGAR or unplaced.</summary>
internal sealed class EndWriter(ColumnWriterContext context, Field field) : ColumnWriter
{
    private const ushort Unmapped = 0x4; // FLAG bit 0x4: segment unmapped

    private readonly PrimitiveColumn<int> _values = new(context.Pool, context.Rows, field.DataType);

    public override void Append(in BamRecord record)
    {
        ReadOnlySpan<byte> cigar = record.Cigar;
        int position = record.Position;
        if ((record.Flag & Unmapped) != 0 || cigar.IsEmpty || position < 0)
        {
            _values.AppendNull();
            return;
        }

        // htslib's bam_endpos: pos + reference length, at least pos + 1; as a 1-based inclusive end it is the same number.
        long end = position + Math.Max(CigarDecoder.ReferenceLength(cigar), 1);
        if (end > int.MaxValue)
        {
            _values.AppendNull();
        }
        else
        {
            _values.Append((int)end);
        }
    }

    public override IArrowArray Build(int count) => _values.Build();
}

/// <summary>
/// tags: the struct of tag children. Its values are filled by the tag pass that <see cref="TagsOtherWriter"/> runs
/// (tags_other is present whenever the struct is), so appending here does nothing.
/// </summary>
internal sealed class TagsStructWriter(RecordBatchBuilder.TagsBuilder tags, Field field) : ColumnWriter
{
    public override void Append(in BamRecord record)
    {
    }

    public override IArrowArray Build(int count) => tags.BuildStruct(field.DataType, count);
}

/// <summary>tags_other: the SAM text of the tags without a child; appending runs the record's one pass over its tags.</summary>
internal sealed class TagsOtherWriter(RecordBatchBuilder.TagsBuilder tags) : ColumnWriter
{
    public override void Append(in BamRecord record) => tags.Append(record);

    public override IArrowArray Build(int count) => tags.BuildOther();
}
