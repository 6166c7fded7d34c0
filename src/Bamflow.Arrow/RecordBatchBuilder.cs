using Apache.Arrow;
using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>
/// Accumulates BAM records into Arrow columns, straight from the record bytes (no strings), and hands them
/// over as a <see cref="RecordBatch"/>. Not thread-safe: each worker owns one and reuses it batch after batch.
/// </summary>
/// <remarks>
/// Which columns exist, in what order, of which types, and which store each array is made from come from the column
/// table (<c>ColumnTable</c>), the same rows <see cref="BamArrowSchema"/> makes its fields from, so a batch's arrays
/// cannot get out of step with the schema. The table runs per schema and per batch; <see cref="Append"/>, per record,
/// fills the stores directly, with no call per column.
/// </remarks>
public sealed partial class RecordBatchBuilder
{
    private const byte Unmapped = 0x4; // FLAG bit 0x4: segment unmapped

    private readonly BamArrowSchema _schema;

    // The column stores: set by the schema's rows of ColumnTable (a column the schema lacks keeps its store null),
    // and filled by Append, which names each one directly.
    private Utf8Column _qname = null!;
    private PrimitiveColumn<ushort> _flag = null!;
    private PrimitiveColumn<int> _rname = null!;
    private PrimitiveColumn<int> _pos = null!;
    private PrimitiveColumn<byte> _mapq = null!;
    private Utf8Column _cigar = null!;
    private PrimitiveColumn<int> _rnext = null!;
    private PrimitiveColumn<int> _pnext = null!;
    private PrimitiveColumn<int> _tlen = null!;
    private Utf8Column? _seq;
    private Utf8Column? _qual;
    private PrimitiveColumn<int> _end = null!;

    /// <summary>Creates a builder for batches of <paramref name="schema"/>.</summary>
    /// <param name="schema">The schema of every batch.</param>
    /// <param name="pool">Where column arrays come from; by default new arrays, left to the GC.</param>
    public RecordBatchBuilder(BamArrowSchema schema, ColumnBufferPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _schema = schema;
        pool ??= ColumnBufferPool.None;
        int rows = Math.Min(schema.Options.BatchSize, 1 << 16);
        _tags = new TagsBuilder(schema);
        foreach (BamColumn column in schema.Columns)
        {
            column.CreateStore(this, pool, rows);
        }
    }

    /// <summary>Records appended since the last <see cref="Build"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one record as one row.</summary>
    public void Append(BamRecord record)
    {
        ReadOnlySpan<byte> name = record.ReadName;
        if (name.Length == 1 && name[0] == (byte)'*')
        {
            _qname.AppendNull();
        }
        else
        {
            _qname.Append(name);
        }

        ushort flag = record.Flag;
        _flag.Append(flag);
        int refId = record.ReferenceId;
        AppendReference(_rname, refId);
        int position = record.Position;
        AppendPosition(_pos, position);
        byte mapq = record.MappingQuality;
        if (mapq == 255)
        {
            _mapq.AppendNull();
        }
        else
        {
            _mapq.Append(mapq);
        }

        ReadOnlySpan<byte> cigar = record.Cigar;
        if (cigar.IsEmpty)
        {
            _cigar.AppendNull();
        }
        else
        {
            int length = CigarDecoder.TextLength(cigar);
            _cigar.Data.Commit(CigarDecoder.Format(cigar, _cigar.Data.Reserve(length)));
            _cigar.EndValue();
        }

        AppendReference(_rnext, record.MateReferenceId);
        AppendPosition(_pnext, record.MatePosition);
        _tlen.Append(record.TemplateLength);

        int sequenceLength = record.SequenceLength;
        if (_seq is not null)
        {
            if (sequenceLength == 0)
            {
                _seq.AppendNull();
            }
            else
            {
                SequenceDecoder.Decode(record.PackedSequence, sequenceLength, _seq.Data.Reserve(sequenceLength));
                _seq.Data.Commit(sequenceLength);
                _seq.EndValue();
            }
        }

        if (_qual is not null)
        {
            if (!record.HasQuality)
            {
                _qual.AppendNull();
            }
            else
            {
                QualityDecoder.ToPhred33(record.Quality, _qual.Data.Reserve(sequenceLength));
                _qual.Data.Commit(sequenceLength);
                _qual.EndValue();
            }
        }

        if ((flag & Unmapped) != 0 || cigar.IsEmpty || position < 0)
        {
            _end.AppendNull();
        }
        else
        {
            // htslib's bam_endpos: pos + reference length, at least pos + 1; as a 1-based inclusive end it is the same number.
            long end = position + Math.Max(CigarDecoder.ReferenceLength(cigar), 1);
            if (end > int.MaxValue)
            {
                _end.AppendNull();
            }
            else
            {
                _end.Append((int)end);
            }
        }

        _tags.Append(record);
        Count++;
    }

    /// <summary>Returns the rows appended so far as a batch, and starts a new one.</summary>
    public RecordBatch Build()
    {
        // The arrays in the order of the schema's fields, each made by the table row its field was made from.
        IReadOnlyList<BamColumn> table = _schema.Columns;
        var columns = new IArrowArray[table.Count];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = table[i].Build(this, _schema.Schema.GetFieldByIndex(i));
        }

        int count = Count;
        Count = 0;
        return new RecordBatch(_schema.Schema, columns, count);
    }

    private static void AppendReference(PrimitiveColumn<int> column, int refId)
    {
        if (refId < 0)
        {
            column.AppendNull();
        }
        else
        {
            column.Append(refId);
        }
    }

    private static void AppendPosition(PrimitiveColumn<int> column, int position)
    {
        if (position < 0)
        {
            column.AppendNull();
        }
        else
        {
            column.Append(position + 1);
        }
    }
}
