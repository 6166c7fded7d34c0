using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Bamflow.Dataflow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Bamflow.Parquet;

/// <summary>
/// One row group, encoded by its own Arrow C++ writer into a Parquet file in memory (a "part" for
/// <see cref="ParquetStitcher"/>). With a <see cref="SinkContext"/> the slices are encoded one after another on the
/// run's scheduler, in the background; without one, on the caller's thread as they are added.
/// </summary>
internal sealed class RowGroupPart : IAsyncDisposable
{
    private readonly MemoryStream _buffer;
    private readonly FileWriter _writer;
    private readonly ActionBlock<(RecordBatch Slice, BatchTicket Ticket)>? _block;
    private readonly TaskScheduler _scheduler;
    private readonly TaskCompletionSource<ArraySegment<byte>> _encoded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _finishing = Task.CompletedTask;
    private bool _sealed;

    public RowGroupPart(MemoryStream buffer, Schema schema, WriterProperties properties, ArrowWriterProperties arrowProperties, SinkContext? context)
    {
        _buffer = buffer;
        _writer = new FileWriter(_buffer, schema, properties, arrowProperties, leaveOpen: true);
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

    /// <summary>The complete part file, once sealed and encoded; faults with the writer's error.</summary>
    public Task<ArraySegment<byte>> Encoded => _encoded.Task;

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
        _writer.WriteBufferedRecordBatch(slice);
        ticket.SliceDone();
    }

    private void Finish()
    {
        try
        {
            _writer.Close(); // the row group's last pages and the part's footer
            _encoded.TrySetResult(_buffer.TryGetBuffer(out ArraySegment<byte> bytes) ? bytes : _buffer.ToArray());
        }
        catch (Exception e)
        {
            _encoded.TrySetException(e);
        }
    }
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
