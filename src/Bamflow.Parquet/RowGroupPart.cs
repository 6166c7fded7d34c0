using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Bamflow.Arrow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Bamflow.Parquet;

/// <summary>
/// One row group, encoded by its own Arrow C++ writer into a Parquet file in memory (a "part" for
/// <see cref="ParquetStitcher"/>), except the columns given to <see cref="ByteArrayColumnWriter"/>s, which write
/// their chunks themselves. With a <see cref="SinkContext"/> the slices are encoded one after another on the
/// run's scheduler, in the background; without one, on the caller's thread as they are added.
/// </summary>
internal sealed class RowGroupPart : IAsyncDisposable
{
    private readonly MemoryStream _buffer;
    private readonly FileWriter _writer;
    private readonly PartLayout _layout;
    private readonly ByteArrayColumnWriter[] _columns;
    private readonly ActionBlock<(RecordBatch Slice, BatchTicket Ticket)>? _block;
    private readonly TaskScheduler _scheduler;
    private readonly TaskCompletionSource<EncodedPart> _encoded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _finishing = Task.CompletedTask;
    private bool _sealed;

    public RowGroupPart(MemoryStream buffer, PartLayout layout, ByteArrayColumnWriter[] columns, WriterProperties properties, ArrowWriterProperties arrowProperties, SinkContext? context)
    {
        _buffer = buffer;
        _layout = layout;
        _columns = columns;
        foreach (ByteArrayColumnWriter column in columns)
        {
            column.Reset();
        }

        _writer = new FileWriter(_buffer, layout.ArrowSchema, properties, arrowProperties, leaveOpen: true);
        _scheduler = context?.Scheduler ?? TaskScheduler.Default;
        if (context is not null)
        {
            _block = new ActionBlock<(RecordBatch Slice, BatchTicket Ticket)>(
                item => Encode(item.Slice, item.Ticket),
                new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, TaskScheduler = context.Scheduler, CancellationToken = context.Cancellation });
        }
    }

    /// <summary>Where the part file is written (empty at the start; the caller owns it and may reuse it after <see cref="DisposeAsync"/>).</summary>
    public MemoryStream Buffer => _buffer;

    /// <summary>Rows given to this part so far.</summary>
    public int Rows { get; set; }

    /// <summary>The complete part, once sealed and encoded; faults with the writer's error.</summary>
    public Task<EncodedPart> Encoded => _encoded.Task;

    /// <summary>The writers of the columns Arrow C++ does not write (the caller's, to reuse once the part is written out).</summary>
    public ByteArrayColumnWriter[] Columns => _columns;

    /// <summary>Encodes <paramref name="slice"/> (now, or queued behind the slices before it).</summary>
    public void Add(RecordBatch slice, BatchTicket ticket)
    {
        if (_block is null)
        {
            Encode(slice, ticket);
        }
        else if (!_block.Post((slice, ticket)))
        {
            // Faulted or cancelled: Encoded carries the reason.
            _encoded.TrySetException(new InvalidOperationException("the row group's writer stopped before all rows were given to it"));
        }
    }

    /// <summary>No more rows: finish the row group and the part file (in the background when there is a block).</summary>
    public void Seal()
    {
        if (_sealed)
        {
            return;
        }

        _sealed = true;
        if (_block is null)
        {
            Finish();
            return;
        }

        _block.Complete();
        _finishing = _block.Completion.ContinueWith(
            done =>
            {
                if (done.IsFaulted)
                {
                    _encoded.TrySetException(done.Exception!.InnerExceptions);
                }
                else if (done.IsCanceled)
                {
                    _encoded.TrySetCanceled();
                }
                else
                {
                    Finish();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            _scheduler);
    }

    public async ValueTask DisposeAsync()
    {
        // The native writer must not be freed while a worker still encodes with it.
        if (_block is not null)
        {
            _block.Complete();
            try
            {
                await _block.Completion.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Reported through Encoded (or the run already failed).
            }
        }

        await _finishing.ConfigureAwait(false);
        _writer.Dispose();
    }

    private void Encode(RecordBatch slice, BatchTicket ticket)
    {
        _writer.WriteBufferedRecordBatch(_layout.ArrowPart(slice));
        for (int i = 0; i < _columns.Length; i++)
        {
            _columns[i].Add(slice.Column(_layout.OwnColumns[i]));
        }

        ticket.SliceDone();
    }

    private void Finish()
    {
        try
        {
            _writer.Close(); // the row group's last pages and the part's footer
            ArraySegment<byte> file = _buffer.TryGetBuffer(out ArraySegment<byte> bytes) ? bytes : _buffer.ToArray();
            _encoded.TrySetResult(new EncodedPart(file, [.. _columns.Select(c => c.Finish())]));
        }
        catch (Exception e)
        {
            _encoded.TrySetException(e);
        }
    }
}

/// <summary>A row group encoded: the part file Arrow C++ wrote, and the column chunks written beside it.</summary>
internal sealed record EncodedPart(ArraySegment<byte> File, IReadOnlyList<ColumnChunkPart> Columns);

/// <summary>
/// Which of the batch's columns Arrow C++ writes (in <see cref="ArrowSchema"/>) and which the sink writes itself
/// (<see cref="OwnColumns"/>: batch column indexes, ascending, with their leaf indexes in the whole schema).
/// </summary>
internal sealed class PartLayout
{
    private readonly Schema _schema;
    private readonly int[] _arrowColumns;

    public PartLayout(Schema schema, IReadOnlyCollection<string> ownColumns)
    {
        _schema = schema;
        var own = new List<int>();
        var arrow = new List<int>();
        var leaves = new List<int>();
        int leaf = 0;
        for (int i = 0; i < schema.FieldsList.Count; i++)
        {
            Field field = schema.FieldsList[i];
            if (ownColumns.Contains(field.Name) && field.DataType.TypeId is Apache.Arrow.Types.ArrowTypeId.String or Apache.Arrow.Types.ArrowTypeId.Binary)
            {
                own.Add(i);
                leaves.Add(leaf);
            }
            else
            {
                arrow.Add(i);
            }

            leaf += Leaves(field.DataType);
        }

        OwnColumns = [.. own];
        OwnLeaves = [.. leaves];
        _arrowColumns = [.. arrow];
        ArrowSchema = own.Count == 0 ? schema : new Schema(arrow.Select(i => schema.FieldsList[i]), schema.Metadata);
    }

    /// <summary>The schema of the part files Arrow C++ writes.</summary>
    public Schema ArrowSchema { get; }

    /// <summary>Batch column indexes of the columns written by <see cref="ByteArrayColumnWriter"/>s.</summary>
    public int[] OwnColumns { get; }

    /// <summary>Their leaf indexes in the whole schema (their places in a row group's column list).</summary>
    public int[] OwnLeaves { get; }

    /// <summary>The writers for <see cref="OwnColumns"/>.</summary>
    public ByteArrayColumnWriter[] CreateWriters() =>
        [.. OwnColumns.Select((c, i) => new ByteArrayColumnWriter(_schema.FieldsList[c].Name, OwnLeaves[i]))];

    /// <summary>The columns of <paramref name="batch"/> that Arrow C++ writes.</summary>
    public RecordBatch ArrowPart(RecordBatch batch) =>
        OwnColumns.Length == 0 ? batch : new RecordBatch(ArrowSchema, _arrowColumns.Select(batch.Column), batch.Length);

    private static int Leaves(Apache.Arrow.Types.IArrowType type) => type switch
    {
        Apache.Arrow.Types.StructType s => s.Fields.Sum(f => Leaves(f.DataType)),
        Apache.Arrow.Types.ListType l => Leaves(l.ValueDataType),
        Apache.Arrow.Types.MapType m => Leaves(m.KeyField.DataType) + Leaves(m.ValueField.DataType),
        _ => 1,
    };
}

/// <summary>Hands a batch back once every slice cut from it is encoded.</summary>
internal sealed class BatchTicket(RecordBatch batch, Action<RecordBatch> release)
{
    private int _remaining = 1; // the writer's own hold until all slices are handed out

    public void AddSlice() => Interlocked.Increment(ref _remaining);

    public void SliceDone()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            release(batch);
        }
    }
}
