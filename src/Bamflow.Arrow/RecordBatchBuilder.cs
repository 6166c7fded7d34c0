using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>
/// Accumulates BAM records into Arrow columns, straight from the record bytes (no strings), and hands them
/// over as a <see cref="RecordBatch"/>. Not thread-safe: each worker owns one and reuses it batch after batch.
/// </summary>
public sealed partial class RecordBatchBuilder
{
    private const byte Unmapped = 0x4; // FLAG bit 0x4: segment unmapped

    private readonly BamArrowSchema _schema;
    private readonly Utf8Column _qname;
    private readonly PrimitiveColumn<ushort> _flag;
    private readonly PrimitiveColumn<int> _rname;
    private readonly PrimitiveColumn<int> _pos;
    private readonly PrimitiveColumn<byte> _mapq;
    private readonly Utf8Column _cigar;
    private readonly PrimitiveColumn<int> _rnext;
    private readonly PrimitiveColumn<int> _pnext;
    private readonly PrimitiveColumn<int> _tlen;
    private readonly Utf8Column? _seq;
    private readonly Utf8Column? _qual;
    private readonly PrimitiveColumn<int> _end;

    /// <summary>Creates a builder for batches of <paramref name="schema"/>.</summary>
    /// <param name="schema">The schema of every batch.</param>
    /// <param name="pool">Where column arrays come from; by default new arrays, left to the GC.</param>
    public RecordBatchBuilder(BamArrowSchema schema, ColumnBufferPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _schema = schema;
        pool ??= ColumnBufferPool.None;
        int rows = Math.Min(schema.Options.BatchSize, 1 << 16);
        _qname = new Utf8Column(pool, rows, rows * 24);
        _flag = new PrimitiveColumn<ushort>(pool, rows, UInt16Type.Default);
        _rname = new PrimitiveColumn<int>(pool, rows, Int32Type.Default);
        _pos = new PrimitiveColumn<int>(pool, rows, Int32Type.Default);
        _mapq = new PrimitiveColumn<byte>(pool, rows, UInt8Type.Default);
        _cigar = new Utf8Column(pool, rows, rows * 8);
        _rnext = new PrimitiveColumn<int>(pool, rows, Int32Type.Default);
        _pnext = new PrimitiveColumn<int>(pool, rows, Int32Type.Default);
        _tlen = new PrimitiveColumn<int>(pool, rows, Int32Type.Default);
        _seq = schema.Options.IncludeSequence ? new Utf8Column(pool, rows, rows * 150) : null;
        _qual = schema.Options.IncludeQuality ? new Utf8Column(pool, rows, rows * 150) : null;
        _end = new PrimitiveColumn<int>(pool, rows, Int32Type.Default);
        _tags = new TagsBuilder(schema, pool, rows);
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
        int count = Count;
        var referenceType = (DictionaryType)_schema.Schema.GetFieldByName(BamColumns.RName).DataType;
        var columns = new List<IArrowArray>
        {
            _qname.Build(),
            _flag.Build(),
            new DictionaryArray(referenceType, _rname.Build(), _schema.ReferenceDictionary),
            _pos.Build(),
            _mapq.Build(),
            _cigar.Build(),
            new DictionaryArray(referenceType, _rnext.Build(), _schema.ReferenceDictionary),
            _pnext.Build(),
            _tlen.Build(),
        };
        if (_seq is not null)
        {
            columns.Add(_seq.Build());
        }

        if (_qual is not null)
        {
            columns.Add(_qual.Build());
        }

        columns.Add(_end.Build());
        _tags.Build(count, columns);
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
