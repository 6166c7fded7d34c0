using Apache.Arrow;
using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>
/// Accumulates BAM records into Arrow columns, straight from the record bytes (no strings), and hands them
/// over as a <see cref="RecordBatch"/>. Not thread-safe: each worker owns one and reuses it batch after batch.
/// </summary>
/// <remarks>
/// The columns and their order come from the schema's columns (<see cref="BamColumnTable"/>): one writer per field,
/// made from the same list the fields were made from, so the arrays cannot get out of step with the schema.
/// </remarks>
public sealed partial class RecordBatchBuilder
{
    private readonly BamArrowSchema _schema;
    private readonly ColumnWriter[] _writers;

    /// <summary>Creates a builder for batches of <paramref name="schema"/>.</summary>
    /// <param name="schema">The schema of every batch.</param>
    /// <param name="pool">Where column arrays come from; by default new arrays, left to the GC.</param>
    public RecordBatchBuilder(BamArrowSchema schema, ColumnBufferPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _schema = schema;
        var context = new ColumnWriterContext(schema, pool ?? ColumnBufferPool.None, Math.Min(schema.Options.BatchSize, 1 << 16));
        _writers = [.. schema.Columns.Select((column, i) => column.CreateWriter(context, schema.Schema.GetFieldByIndex(i)))];
    }

    /// <summary>Records appended since the last <see cref="Build"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one record as one row.</summary>
    public void Append(BamRecord record)
    {
        foreach (ColumnWriter writer in _writers)
        {
            writer.Append(in record);
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
}
