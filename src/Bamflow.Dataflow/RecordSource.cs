using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;
using Bamflow.Bam;
using Bamflow.Bgzf;

namespace Bamflow.Dataflow;

/// <summary>
/// The source of the conversion graph: the reader stack connected by Dataflow blocks, and nothing of its own.
/// <list type="number">
/// <item>The <see cref="BgzfSegmentReader"/> (I/O only) fills a segment taken from a fixed set of <i>slots</i> with whole
/// BGZF blocks, about a batch's byte budget of them, and sends it on.</item>
/// <item>An ordered <see cref="TransformBlock{TInput,TOutput}"/> with <c>MaxDegreeOfParallelism</c> = threads inflates each
/// segment (a pure function) into the slot's buffer, after room for the carry, and walks its record starts from its first
/// byte block by block as they are inflated, while the bytes are in the core's cache (<see cref="BamRecordFramer"/>).</item>
/// <item>One sequential step, in file order, joins the record straddling two segments (<see cref="BamRecordJoiner"/>) and
/// cuts the segment's records into <see cref="RecordChunk"/>s, views of the slot's buffer (no copy), into
/// <see cref="Output"/>.</item>
/// </list>
/// A slot goes back to the reader when the last chunk cut from it has been converted: the slots are the memory bound, by
/// construction, whatever the length of the records (a record longer than a segment is gathered by the joiner, once).
/// A malformed block or record stops the reader but not the run: the chunks cut before it still flow, and
/// <see cref="NextAsync"/> throws the error after the last of them, so a run reports the first error in file order.
/// A region query reads the index's ranges of the file (the reader seeks; a segment never spans two ranges) and gives each
/// chunk the selection of the range it was read from (<see cref="RecordChunk.Selection"/>), applied in parallel by the
/// first record stage. Records from another decoder (SAM text, CRAM) would enter here, as chunks into <see cref="Output"/>: the stages after
/// it do not know where records come from.
/// </summary>
internal sealed class RecordSource : IDisposable
{
    private readonly BgzfSegmentReader _reader;
    private readonly BamRecordJoiner _joiner;
    private readonly FirstFault _faults;
    private readonly CancellationTokenSource _sourceStop;
    private readonly int _referenceCount;
    private readonly bool _lenient;
    private readonly string? _fileName;
    private readonly BgzfInflaterKind _inflaterKind;
    private readonly int _maxRecords;
    private readonly int _maxBytes;
    private readonly IReadOnlyList<RecordPredicate?>? _selections;
    private readonly ConcurrentBag<IBgzfInflater> _inflaters = [];
    private readonly BufferBlock<Slot> _freeSlots = new();
    private readonly TransformBlock<Slot, Slot> _inflate;
    private readonly TransformManyBlock<Slot, RecordChunk> _join;
    private readonly RecordStarts _starts = new();
    private readonly Task _readerTask;
    private readonly Task _finished;
    private readonly StageClock _readClock = new("read", 1);
    private readonly StageClock _waitClock = new("read: waiting (backpressure)", 1);
    private readonly StageClock _inflateClock;
    private readonly StageClock _joinClock = new("join", 1);
    private ExceptionDispatchInfo? _sourceFault;
    private int _slotLimit;
    private int _slotsCreated;
    private int _slotsOut;
    private int _peakSlotsOut;
    private long _recordsFramed;
    private long _compressedBytesRead;
    private long _sequence;
    private volatile bool _stopped;

    public RecordSource(BgzfSegmentReader reader, BamRecordJoiner joiner, int referenceCount, BgzfInflaterKind inflater, TaskScheduler scheduler, int threads, int maxRecords, int maxBytes, bool lenient, int slots, FirstFault faults, IReadOnlyList<RecordPredicate?>? selections = null)
    {
        _selections = selections;
        _reader = reader;
        _joiner = joiner;
        _referenceCount = referenceCount;
        _lenient = lenient;
        _fileName = reader.FileName;
        _inflaterKind = inflater;
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
        _faults = faults;
        _slotLimit = slots;
        _sourceStop = CancellationTokenSource.CreateLinkedTokenSource(faults.Token);
        _inflateClock = new StageClock("inflate", threads);

        // Not cancelled by the source's own stop: the chunks cut before its error must still go out.
        _inflate = new TransformBlock<Slot, Slot>(Inflate, new ExecutionDataflowBlockOptions
        {
            MaxDegreeOfParallelism = threads,
            EnsureOrdered = true,
            BoundedCapacity = threads, // one segment per worker: a deeper queue only held memory (measured: same speed)
            SingleProducerConstrained = true,
            CancellationToken = faults.Token,
            TaskScheduler = scheduler,
        });
        _join = new TransformManyBlock<Slot, RecordChunk>(Join, new ExecutionDataflowBlockOptions
        {
            MaxDegreeOfParallelism = 1,
            BoundedCapacity = 1,
            SingleProducerConstrained = true,
            CancellationToken = faults.Token,
            TaskScheduler = scheduler,
        });
        _inflate.LinkTo(_join, new DataflowLinkOptions { PropagateCompletion = true });

        // A file is read on the run's own workers, so --threads N is N cores (its reads are copies from the page cache);
        // a pipe or device on a thread of its own, which may wait there without holding a worker.
        _readerTask = reader.IsRegularFile
            ? Task.Factory.StartNew(ReadAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap()
            : Task.Run(ReadAsync, CancellationToken.None);
        _finished = FinishAsync();
    }

    /// <summary>The chunks, in file order: the source block of the graph.</summary>
    public ISourceBlock<RecordChunk> Output => _join;

    /// <summary>Records cut into chunks so far.</summary>
    public long RecordsRead => Interlocked.Read(ref _recordsFramed);

    /// <summary>Compressed bytes read so far.</summary>
    public long CompressedBytesRead => Interlocked.Read(ref _compressedBytesRead);

    /// <summary>Whether the input ended without the BGZF EOF marker (only known when it was read to its end).</summary>
    public bool MissingEofMarker => _reader.MissingEofMarker && !_stopped && _sourceFault is null;

    /// <summary>The most slots (segment buffers, each holding one chunk or a few) out at once.</summary>
    public int PeakChunksOut => Volatile.Read(ref _peakSlotsOut);

    /// <summary>The source's stages: reading (and its waits on backpressure), inflating, joining and chunking.</summary>
    public IEnumerable<StageClock> Clocks => [_readClock, _waitClock, _inflateClock, _joinClock];

    /// <summary>Completes when the source has finished (or failed: the failure is thrown by <see cref="NextAsync"/>).</summary>
    public Task Completion => _finished;

    /// <summary>The next chunk in file order; null at the end; throws the source's error after the chunks before it.</summary>
    public async ValueTask<RecordChunk?> NextAsync(CancellationToken cancellationToken)
    {
        if (await _join.OutputAvailableAsync(cancellationToken).ConfigureAwait(false) && _join.TryReceive(out RecordChunk? chunk))
        {
            return chunk;
        }

        await _finished.ConfigureAwait(false);
        _sourceFault?.Throw();
        return null;
    }

    /// <summary>
    /// Allows this many slots from now on (more when a stage of the user's may hold chunks: <see cref="int.MaxValue"/>
    /// creates them as needed).
    /// </summary>
    public void LimitSlots(int slots)
    {
        int before = Volatile.Read(ref _slotLimit);
        if (slots <= before)
        {
            return;
        }

        Volatile.Write(ref _slotLimit, slots);
        Interlocked.Increment(ref _slotsCreated);
        _freeSlots.Post(new Slot()); // wakes a reader waiting for a slot under the old limit
    }

    /// <summary>
    /// Stops reading as the record limit does: no further segment is read or cut, the chunks cut already still come out,
    /// and the end of the input is not checked.
    /// </summary>
    public void StopReading()
    {
        _stopped = true;
        _sourceStop.Cancel();
    }

    /// <summary>A free slot: a recycled one, a new one while fewer than the limit exist, else the next one freed.</summary>
    private async ValueTask<Slot> TakeSlotAsync(CancellationToken token)
    {
        if (_freeSlots.TryReceive(out Slot? free))
        {
            return free;
        }

        if (Interlocked.Increment(ref _slotsCreated) <= Volatile.Read(ref _slotLimit))
        {
            return new Slot();
        }

        Interlocked.Decrement(ref _slotsCreated);
        return await _freeSlots.ReceiveAsync(token).ConfigureAwait(true); // resume on the run's scheduler
    }

    private void ReturnSlot(Slot slot)
    {
        slot.Segment.TrimBuffer(_maxBytes);
        if (slot.Data.Length > 2L * (_maxBytes + _joiner.Reserve) + (2 * BgzfFrame.MaxInflatedSize))
        {
            slot.Data = []; // grown for a long record: do not keep its memory for the rest of the run
        }

        Interlocked.Decrement(ref _slotsOut);
        _freeSlots.Post(slot);
    }

    /// <summary>A slot the reader took and did not fill: back to the free ones.</summary>
    private void PutBack(Slot slot) => _freeSlots.Post(slot);

    /// <summary>
    /// The sequential I/O: segments into the inflate block, in file order. Its awaits resume where it was started
    /// (ConfigureAwait(true)): on the run's scheduler for a file, so every read counts in --threads.
    /// </summary>
    private async Task ReadAsync()
    {
        CancellationToken token = _sourceStop.Token;
        try
        {
            bool first = true;
            while (!_stopped)
            {
                long waitStart = Stopwatch.GetTimestamp();
                Slot slot = await TakeSlotAsync(token).ConfigureAwait(true);
                _waitClock.AddTime(waitStart);
                long readStart = Stopwatch.GetTimestamp();
                bool read;
                try
                {
                    read = _reader.TryRead(slot.Segment, _maxBytes);
                }
                catch
                {
                    PutBack(slot);
                    throw;
                }

                Interlocked.Exchange(ref _compressedBytesRead, _reader.BytesRead);
                if (!read && !first)
                {
                    _readClock.AddTime(readStart);
                    PutBack(slot);
                    break;
                }

                // The first segment goes on even when empty (the input ends in the block the header ends in): the join
                // step frames the records that came with the header.
                _readClock.Add(readStart);
                first = false;
                int slotsOut = Interlocked.Increment(ref _slotsOut);
                if (slotsOut > _peakSlotsOut)
                {
                    Volatile.Write(ref _peakSlotsOut, slotsOut); // one writer (the reader)
                }

                bool last = !read || slot.Segment.ReadError is not null;
                waitStart = Stopwatch.GetTimestamp();
                if (!await _inflate.SendAsync(slot, token).ConfigureAwait(true))
                {
                    ReturnSlot(slot);
                    break;
                }

                _waitClock.AddTime(waitStart);
                if (last)
                {
                    break; // the input ended, or is malformed after this segment's blocks (the segment carries the error)
                }
            }
        }
        catch (Exception e) when (!(e is OperationCanceledException && token.IsCancellationRequested))
        {
            RecordSourceFault(e);
        }
        finally
        {
            _inflate.Complete();
        }
    }

    /// <summary>On a worker: inflates the segment into the slot's buffer (pure CPU) and walks its record starts.</summary>
    private Slot Inflate(Slot slot)
    {
        if (_sourceStop.IsCancellationRequested)
        {
            return slot; // the join step frees it
        }

        long start = Stopwatch.GetTimestamp();
        IBgzfInflater inflater = _inflaters.TryTake(out IBgzfInflater? pooled) ? pooled : BgzfInflater.Create(_inflaterKind);
        try
        {
            slot.Inflate(inflater, _joiner.Reserve, _maxBytes, _joiner.MaxRecordSize, _fileName);
        }
        catch (Exception e)
        {
            slot.Error ??= e;
        }
        finally
        {
            _inflaters.Add(inflater);
            _inflateClock.Add(start);
        }

        return slot;
    }

    /// <summary>The segment's turn, in file order: joins the carry, cuts its records into chunks.</summary>
    private IEnumerable<RecordChunk> Join(Slot slot)
    {
        if (_sourceStop.IsCancellationRequested)
        {
            ReturnSlot(slot); // an earlier segment ended the input (its error, or the record limit)
            return [];
        }

        long start = Stopwatch.GetTimestamp();
        try
        {
            BamRecordJoiner.JoinResult result = _joiner.Join(ref slot.Data, ref slot.Reserve, slot.Length, slot.Segment, slot.Walked, slot.WalkedEnd, slot.WalkedInvalid, _starts, slot.Error);
            List<RecordChunk> chunks = Cut(slot, result);
            Interlocked.Exchange(ref _recordsFramed, _joiner.RecordsFramed);
            if (result.Fault is not null)
            {
                RecordSourceFault(result.Fault);
            }

            return chunks;
        }
        catch (Exception e)
        {
            RecordSourceFault(e);
            return [];
        }
        finally
        {
            _joinClock.Add(start);
        }
    }

    /// <summary>The joined segment's records as chunks of at most the batch's record count, sharing the slot's buffer.</summary>
    private List<RecordChunk> Cut(Slot slot, BamRecordJoiner.JoinResult result)
    {
        int count = _starts.Count;
        if (count == 0)
        {
            ReturnSlot(slot);
            return [];
        }

        var shared = new SharedBuffer(slot.Data, _ => ReturnSlot(slot));
        var chunks = new List<RecordChunk>((count + _maxRecords - 1) / _maxRecords);
        long firstIndex = _joiner.RecordsFramed - count;
        if (slot.Positions.Length < count)
        {
            slot.Positions = new ulong[Math.Max(count, slot.Positions.Length * 2)];
        }

        RecordPredicate? selection = _selections is null ? null : _selections[slot.Segment.RangeIndex];

        // The records' virtual positions, in the slot's own array (kept from use to use): no allocation per chunk.
        ulong[] positions = slot.Positions;
        int hint = 0;
        for (int i = 0; i < count; i++)
        {
            positions[i] = result.Positions.At(_starts[i], ref hint).Value;
        }

        for (int first = 0; first < count; first += _maxRecords)
        {
            int n = Math.Min(_maxRecords, count - first);
            int begin = _starts[first];
            int end = first + n < count ? _starts[first + n] : result.End;
            shared.AddReference();
            chunks.Add(new RecordChunk(shared, begin, end - begin, positions, first, n, _referenceCount, _fileName)
            {
                Lenient = _lenient,
                FirstRecordIndex = firstIndex + first,
                Sequence = _sequence++,
                Selection = selection,
            });
        }

        shared.Release(); // the cut's own reference: the chunks hold theirs
        return chunks;
    }

    /// <summary>After the last segment: the error of a record cut short by the end of the input, if any.</summary>
    private async Task FinishAsync()
    {
        try
        {
            try
            {
                await _readerTask.ConfigureAwait(false);
                var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (_faults.Token.Register(static c => ((TaskCompletionSource)c!).TrySetResult(), cancelled))
                {
                    if (await Task.WhenAny(_join.Completion, cancelled.Task).ConfigureAwait(false) != _join.Completion)
                    {
                        await DrainAsync().ConfigureAwait(false);
                    }
                }

                await _join.Completion.ConfigureAwait(false);
            }
            catch (Exception) when (_sourceFault is not null || _faults.Token.IsCancellationRequested)
            {
                // The source stopped on its error (kept in _sourceFault) or the run was cancelled.
            }

            if (!_stopped && _sourceFault is null && !_faults.Token.IsCancellationRequested && _joiner.Finish() is { } truncated)
            {
                RecordSourceFault(truncated);
            }
        }
        catch (Exception e) when (!(e is OperationCanceledException && _faults.Token.IsCancellationRequested))
        {
            RecordSourceFault(e);
        }
        finally
        {
            _reader.Dispose();
        }
    }

    /// <summary>
    /// The run was cancelled or failed: nobody takes the chunks still in the join block's output, and a cancelled block
    /// with output waiting does not complete. Frees them (their slots go back) until the block has completed.
    /// </summary>
    private async Task DrainAsync()
    {
        while (!_join.Completion.IsCompleted)
        {
            while (_join.TryReceive(out RecordChunk? chunk))
            {
                chunk.Release();
            }

            await Task.WhenAny(_join.Completion, Task.Delay(5)).ConfigureAwait(false);
        }
    }

    /// <summary>Keeps the source's first error (thrown by <see cref="NextAsync"/> after the chunks before it) and stops reading.</summary>
    private void RecordSourceFault(Exception e)
    {
        if (e is OperationCanceledException)
        {
            e = new InvalidOperationException("a pipeline stage was cancelled unexpectedly", e);
        }

        if (Interlocked.CompareExchange(ref _sourceFault, ExceptionDispatchInfo.Capture(e), null) is null)
        {
            _sourceStop.Cancel();
        }
    }

    public void Dispose()
    {
        _sourceStop.Cancel();
        while (_inflaters.TryTake(out IBgzfInflater? inflater))
        {
            inflater.Dispose();
        }
    }

    /// <summary>
    /// One of the fixed set of buffers in flight: a segment's compressed blocks, then its inflated bytes (after room for
    /// the carry) and the record starts walked in them. Its arrays are kept from use to use.
    /// </summary>
    private sealed class Slot
    {
        public BgzfSegment Segment { get; } = new();

        public byte[] Data = [];

        public int Reserve;

        /// <summary>The segment's good inflated bytes (before a block that failed), from <see cref="Reserve"/>.</summary>
        public int Length;

        public RecordStarts Walked { get; } = new();

        /// <summary>The virtual positions of the records cut from the segment (the chunks' views of it).</summary>
        public ulong[] Positions = new ulong[1024];

        public int WalkedEnd;

        public bool WalkedInvalid;

        /// <summary>The segment's error (a block that failed to inflate, or the reader's error after its blocks).</summary>
        public Exception? Error;

        /// <summary>Inflates every block after <paramref name="reserve"/> bytes of room, walking the record starts as it goes.</summary>
        public void Inflate(IBgzfInflater inflater, int reserve, int budget, int maxRecordSize, string? fileName)
        {
            BgzfSegment segment = Segment;
            Error = null;
            Reserve = reserve;
            Walked.Clear();
            WalkedEnd = reserve;
            WalkedInvalid = false;
            long needed = (long)reserve + segment.TotalInflatedLength + BgzfFrame.MaxInflatedSize;
            if (Data.Length < needed)
            {
                // Room for any segment of this budget (the blocks until their bytes reach it: at most one block more), so
                // a slot's buffer is allocated once, not again whenever a segment is a little longer than the last.
                long room = Math.Max(needed, (long)reserve + budget + (2 * BgzfFrame.MaxInflatedSize));
                Data = GC.AllocateUninitializedArray<byte>((int)Math.Min(room, Array.MaxLength));
            }

            // A segment that covers all of its blocks is walked block by block, while each is in cache; one that starts or
            // ends inside a block (a range) is moved into place and walked once.
            bool whole = segment.SkipInflated == 0 && segment.InflatedLength == segment.TotalInflatedLength;
            int at = 0;
            for (int i = 0; i < segment.FrameCount; i++)
            {
                try
                {
                    at += segment.InflateFrame(i, inflater, Data.AsSpan(reserve + at), fileName);
                }
                catch (BamFormatException e)
                {
                    Error = e; // before the reader's error after the last block: this block comes first
                    break;
                }

                if (whole && !WalkedInvalid)
                {
                    WalkedEnd = BamRecordFramer.Walk(Data.AsSpan(0, reserve + at), WalkedEnd, maxRecordSize, Walked, out WalkedInvalid);
                }
            }

            if (!whole)
            {
                int skip = Math.Min(segment.SkipInflated, at);
                Data.AsSpan(reserve + skip, at - skip).CopyTo(Data.AsSpan(reserve));
                at = Math.Min(at - skip, segment.InflatedLength);
                WalkedEnd = BamRecordFramer.Walk(Data.AsSpan(0, reserve + at), reserve, maxRecordSize, Walked, out WalkedInvalid);
            }

            Length = at;
            Error ??= segment.ReadError;
            segment.ReleaseCompressed();
        }
    }
}
