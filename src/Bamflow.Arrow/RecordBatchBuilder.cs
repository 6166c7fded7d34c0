using Apache.Arrow;
using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>
/// Accumulates BAM records into Arrow columns, straight from the record bytes (no strings), and hands them
/// over as a <see cref="RecordBatch"/>. Not thread-safe: each worker owns one and reuses it batch after batch.
/// </summary>
/// <remarks>
/// The columns and their order come from the schema's rows of the column table (<c>BamColumnTable</c>): one writer per field,
/// made from the same list the fields were made from, so the arrays cannot get out of step with the schema.
/// </remarks>
public sealed partial class RecordBatchBuilder
{
    private readonly BamArrowSchema _schema;
    private readonly ColumnWriter[] _writers;          // one per field, in schema order

    // The same writers again, each called directly from Append, where the JIT inlines them (they are marked so): a loop
    // over _writers is one indirect call per column per record from a single call site with as many targets as
    // columns, which measured 12-18 % more CPU per record (a switch on a writer kind, the same). Here every null check
    // goes the same way for the whole run. A writer none of these slots takes (a new column's, until it gets a slot)
    // is called through the loop over _others: correct, only slower.
    private readonly QNameWriter? _qname;
    private readonly FlagWriter? _flag;
    private readonly ReferenceWriter? _rname;
    private readonly PositionWriter? _pos;
    private readonly MapqWriter? _mapq;
    private readonly CigarWriter? _cigar;
    private readonly ReferenceWriter? _rnext;
    private readonly PositionWriter? _pnext;
    private readonly TlenWriter? _tlen;
    private readonly SeqWriter? _seq;
    private readonly QualWriter? _qual;
    private readonly EndWriter? _end;
    private readonly TagsOtherWriter? _tagsOther;
    private readonly ColumnWriter[] _others;

    /// <summary>Creates a builder for batches of <paramref name="schema"/>.</summary>
    /// <param name="schema">The schema of every batch.</param>
    /// <param name="pool">Where column arrays come from; by default new arrays, left to the GC.</param>
    public RecordBatchBuilder(BamArrowSchema schema, ColumnBufferPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _schema = schema;
        var context = new ColumnWriterContext(schema, pool ?? ColumnBufferPool.None, Math.Min(schema.Options.BatchSize, 1 << 16));
        _writers = [.. schema.Columns.Select((column, i) => column.CreateWriter(context, schema.Schema.GetFieldByIndex(i)))];
        var others = new List<ColumnWriter>();
        foreach (ColumnWriter writer in _writers)
        {
            bool direct = writer switch
            {
                QNameWriter w => Take(ref _qname, w),
                FlagWriter w => Take(ref _flag, w),
                ReferenceWriter { Mate: false } w => Take(ref _rname, w),
                ReferenceWriter { Mate: true } w => Take(ref _rnext, w),
                PositionWriter { Mate: false } w => Take(ref _pos, w),
                PositionWriter { Mate: true } w => Take(ref _pnext, w),
                MapqWriter w => Take(ref _mapq, w),
                CigarWriter w => Take(ref _cigar, w),
                TlenWriter w => Take(ref _tlen, w),
                SeqWriter w => Take(ref _seq, w),
                QualWriter w => Take(ref _qual, w),
                EndWriter w => Take(ref _end, w),
                TagsOtherWriter w => Take(ref _tagsOther, w),
                TagsStructWriter => true, // filled by tags_other's pass
                _ => false,
            };
            if (!direct)
            {
                others.Add(writer);
            }
        }

        _others = [.. others];
    }

    /// <summary>Records appended since the last <see cref="Build"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one record as one row.</summary>
    public void Append(BamRecord record)
    {
        _qname?.Append(record);
        _flag?.Append(record);
        _rname?.Append(record);
        _pos?.Append(record);
        _mapq?.Append(record);
        _cigar?.Append(record);
        _rnext?.Append(record);
        _pnext?.Append(record);
        _tlen?.Append(record);
        _seq?.Append(record);
        _qual?.Append(record);
        _end?.Append(record);
        _tagsOther?.Append(record);
        foreach (ColumnWriter writer in _others)
        {
            writer.Append(record);
        }

        Count++;
    }

    /// <summary>Returns the rows appended so far as a batch, and starts a new one.</summary>
    public RecordBatch Build()
    {
        int count = Count;
        var columns = new IArrowArray[_writers.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = _writers[i].Build(count);
        }

        Count = 0;
        return new RecordBatch(_schema.Schema, columns, count);
    }

    /// <summary>Puts <paramref name="writer"/> in <paramref name="slot"/> if the slot is free (a second writer of a kind goes to the loop).</summary>
    private static bool Take<T>(ref T? slot, T writer) where T : ColumnWriter
    {
        if (slot is not null)
        {
            return false;
        }

        slot = writer;
        return true;
    }
}
