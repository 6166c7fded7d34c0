using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;

namespace Bamflow.Dataflow;

/// <summary>
/// The parallel front-end. The sequential reader reads the input in large runs and finds the compressed BGZF blocks in
/// place (I/O only), a segment at a time: the blocks until their inflated or compressed bytes reach the byte budget
/// (<see cref="ChunkRule"/>). An ordered <see cref="TransformManyBlock{TInput,TOutput}"/> then, on every core, inflates
/// a segment's blocks straight into one buffer, walking the record boundaries of each block as soon as it is inflated
/// (while its bytes are in the core's cache), from the segment's first byte. That walk is the true one when the segment
/// before ends at a record boundary (htslib's writer starts a block at a record whenever the record fits); each segment
/// waits for the one before to hand over the bytes of a record that runs on into it (its <i>carry</i>), and when there
/// is one, it goes in front of the segment's bytes and the segment is walked again from it. The chunks are views of the
/// buffer, no copy, into a bounded <see cref="BufferBlock{T}"/> (the source block of the conversion graph). So a
/// record's bytes are inflated and walked on one core, and the only bytes copied are carries. (A copying cutter between
/// inflate and conversion cost a 2-thread run 10 % more CPU than a 1-thread one on the benchmark machine:
/// perf/RESULTS.md, 2026-12-01 evening.)
/// A malformed block or record found here stops the front-end but not the run: the chunks cut before it still flow
/// (their records may hold an earlier error), and <see cref="NextAsync"/> throws it after the last of them, so the
/// run reports the first error in file order, as the sequential path does.
/// </summary>
internal sealed class ParallelRecordSource : IChunkSource
{
    // Room kept before a segment's own inflated bytes for the carry; it grows to the largest carry met (long reads).
    private const int InitialReserve = 64 << 10;
    private const int InitialFrameLengthGuess = 32 * 1024;

    private readonly BgzfRemainder _remainder;
    private readonly FirstFault _faults;
    private readonly CancellationTokenSource _sourceStop;
    private ExceptionDispatchInfo? _sourceFault;
    private readonly int _referenceCount;
    private readonly bool _lenient;
    private readonly string? _fileName;
    private readonly BgzfInflaterKind _inflaterKind;
    private readonly int _threads;
    private readonly int _maxRecords;
    private readonly int _maxBytes;
    private readonly long _limit;
    private readonly int _maxRecordSize;
    private readonly int _maxReserve;
    private readonly ConcurrentBag<IBgzfInflater> _inflaters = [];
    private readonly ConcurrentBag<Segment> _spareSegments = [];
    private readonly ColumnBufferPool _inflatedBuffers = ColumnBufferPool.CreatePooling();
    private readonly ColumnBufferPool _compressedBuffers = ColumnBufferPool.CreatePooling();
    private readonly Action<byte[]> _freeInflated;
    private readonly TransformManyBlock<Segment, RecordChunk> _segments;
    private readonly Task _reader;
    private readonly Task _finished;
    private readonly StageClock _readClock = new("read", 1);
    private readonly StageClock _waitClock = new("read: waiting (backpressure)", 1);
    private readonly StageClock _inflateClock;
    private readonly StageClock _chunkClock;

    // Segments out (taken by the reader, and not yet freed by the release of their last chunk) and the limit on them:
    // the run's chunk memory. At the limit the reader waits for a segment to be freed (a free signals, and the reader
    // rechecks the count; a signal is only added when none is pending).
    private readonly SemaphoreSlim _segmentFreed = new(0);
    private int _segmentsOut;
    private int _segmentLimit;
    private int _peakSegmentsOut;

    // The walk: one segment at a time, in file order (each waits for the carry of the one before).
    private long _recordsCut;
    private long _sequence;
    private int _reserve = InitialReserve;
    private volatile bool _limitReached;

    // Reader state.
    private Task<Carry?> _lastWalk;
    private byte[] _unparsed = [];      // bytes read past the last segment's frames (the start of the next one's)
    private int _unparsedLength;
    private int _lastCompressedLength;
    private long _framesTaken;
    private long _frameBytesTaken;
    private long _inflatedBytesTaken;
    private long _compressedBytesRead;
    private bool _lastFrameWasEofMarker;
    private bool _reachedEnd;

    public ParallelRecordSource(BgzfRemainder remainder, int referenceCount, string? fileName, BgzfInflaterKind inflater, TaskScheduler scheduler, int threads, int maxRecords, int maxBytes, long? limit, bool lenient, int chunkLimit, FirstFault faults, int maxRecordSize = BamRecordFraming.DefaultMaxRecordSize)
    {
        BamRecordFraming.ValidateMaxRecordSize(maxRecordSize);
        _maxRecordSize = maxRecordSize;
        _maxReserve = Math.Max(InitialReserve, maxBytes / 4);

        _remainder = remainder;
        _referenceCount = referenceCount;
        _lenient = lenient;
        _fileName = fileName;
        _inflaterKind = inflater;
        _threads = threads;
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
        _limit = limit ?? long.MaxValue;
        _limitReached = _limit == 0;
        _faults = faults;
        _segmentLimit = SegmentLimit(chunkLimit);
        _sourceStop = CancellationTokenSource.CreateLinkedTokenSource(faults.Token);
        _lastFrameWasEofMarker = remainder.LastFrameWasEofMarker;
        _reachedEnd = remainder.AtEnd;
        _compressedBytesRead = remainder.Frames.CompressedOffset;
        _lastWalk = Task.FromResult<Carry?>(Carry.Of(remainder.Buffered, remainder.BufferedPosition));
        _inflateClock = new StageClock("inflate", threads);
        _chunkClock = new StageClock("chunk", threads);
        _freeInflated = array =>
        {
            ReturnInflated(array);
            FreeSegmentSlot();
        };

        // Not cancelled by the front-end's own stop: the chunks cut before its error must still go out.
        _segments = new TransformManyBlock<Segment, RecordChunk>(
            ProcessAsync,
            new ExecutionDataflowBlockOptions
            {
                MaxDegreeOfParallelism = threads,
                EnsureOrdered = true,
                SingleProducerConstrained = true,
                CancellationToken = faults.Token,
                TaskScheduler = scheduler,
            });
        Output = new BufferBlock<RecordChunk>(new DataflowBlockOptions { BoundedCapacity = 1, CancellationToken = faults.Token });
        _segments.LinkTo(Output);

        // A file is read on the run's own workers, so --threads N is N cores (its reads are copies from the page cache);
        // a pipe or device on a thread of its own, which may wait there without holding a worker.
        _reader = remainder.Frames.IsRegularFile
            ? Task.Factory.StartNew(ReadAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap()
            : Task.Run(ReadAsync, CancellationToken.None);
        _finished = FinishAsync();
    }

    /// <summary>The chunks, in file order.</summary>
    public BufferBlock<RecordChunk> Output { get; }

    public long RecordsRead => Interlocked.Read(ref _recordsCut);

    public long CompressedBytesRead => Interlocked.Read(ref _compressedBytesRead);

    public bool MissingEofMarker => _reachedEnd && !_lastFrameWasEofMarker && !_limitReached;

    /// <summary>The next chunk in file order; null at the end; throws the front-end's error after the chunks before it.</summary>
    public async ValueTask<RecordChunk?> NextAsync(CancellationToken cancellationToken)
    {
        if (await Output.OutputAvailableAsync(cancellationToken).ConfigureAwait(false) && Output.TryReceive(out RecordChunk? chunk))
        {
            return chunk;
        }

        await _finished.ConfigureAwait(false);
        _sourceFault?.Throw();
        return null;
    }

    /// <summary>
    /// The most chunk buffers that were out at once: segments taken by the reader and not yet freed (each holds the
    /// bytes of one chunk, or of several when the record limit cuts it).
    /// </summary>
    public int PeakChunksOut => Volatile.Read(ref _peakSegmentsOut);

    /// <summary>
    /// From now on, read no further segment while the chunks out may reach this many: the segments out stay within it
    /// plus one per worker (those being inflated). Planning raises it by the chunks it holds; the run sets it to
    /// unlimited when a block of the user's might hold chunks.
    /// </summary>
    public void LimitChunksOut(int limit)
    {
        Volatile.Write(ref _segmentLimit, SegmentLimit(limit));
        SignalSegmentFreed(); // the reader may be waiting under an older limit
    }

    /// <summary>
    /// Stops reading as the record limit does (the run's <see cref="RecordLimit"/> has its records): no further segment is
    /// read or walked, the chunks cut already still come out, and the end of the input is not checked.
    /// </summary>
    public void StopReading()
    {
        _limitReached = true;
        SignalSegmentFreed(); // the reader may be waiting for room
    }

    private int SegmentLimit(int chunkLimit) => chunkLimit >= int.MaxValue - _threads ? int.MaxValue : chunkLimit + _threads;

    private void FreeSegmentSlot()
    {
        Interlocked.Decrement(ref _segmentsOut);
        SignalSegmentFreed();
    }

    private void SignalSegmentFreed()
    {
        if (_segmentFreed.CurrentCount == 0)
        {
            _segmentFreed.Release();
        }
    }

    /// <summary>The front-end's stages: reading (and its waits on backpressure), inflating, chunking (the record walk).</summary>
    public IEnumerable<StageClock> Clocks => [_readClock, _waitClock, _inflateClock, _chunkClock];

    /// <summary>Completes when the front-end has finished (or failed: the failure is in the run's faults).</summary>
    public Task Completion => _finished;

    /// <summary>
    /// The sequential I/O: the input into segments' compressed buffers, cut into whole frames, nothing else. Its awaits
    /// resume where it was started (ConfigureAwait(true)): on the run's scheduler for a file, so every read counts in --threads.
    /// </summary>
    private async Task ReadAsync()
    {
        CancellationToken token = _sourceStop.Token;
        try
        {
            _unparsed = new byte[BgzfFrame.MaxLength];
            bool end = _reachedEnd, first = true;
            while ((first || !end) && !_limitReached)
            {
                long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _segmentsOut) >= Volatile.Read(ref _segmentLimit))
                {
                    await _segmentFreed.WaitAsync(token).ConfigureAwait(true);
                }

                _waitClock.AddTime(waitStart);
                long readStart = System.Diagnostics.Stopwatch.GetTimestamp();
                int segmentsOut = Interlocked.Increment(ref _segmentsOut);
                if (segmentsOut > _peakSegmentsOut)
                {
                    Volatile.Write(ref _peakSegmentsOut, segmentsOut); // one writer (the reader)
                }

                Segment segment = _spareSegments.TryTake(out Segment? spare) ? spare : new Segment();
                segment.Start(_compressedBuffers, Math.Max(_lastCompressedLength + (_lastCompressedLength >> 3), 256 << 10), _unparsed.AsSpan(0, _unparsedLength), _lastWalk);
                try
                {
                    if (!end)
                    {
                        end = Fill(segment);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A malformed or cut block: it travels after the frames before it, so the walk meets it in order.
                    segment.Error = e;
                    end = true;
                }

                KeepUnparsed(segment);
                _lastCompressedLength = segment.CompressedLength;
                Interlocked.Exchange(ref _compressedBytesRead, _remainder.Frames.CompressedOffset);
                _readClock.Add(readStart);
                if (segment.FrameCount == 0 && segment.Error is null && !first)
                {
                    FreeUnsent(segment); // the input ended with the last segment
                    break;
                }

                first = false;
                _lastWalk = segment.Walked.Task;
                waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
                if (!await _segments.SendAsync(segment, token).ConfigureAwait(true))
                {
                    FreeUnsent(segment);
                }

                _waitClock.AddTime(waitStart);
            }

            _reachedEnd = end;
        }
        catch (Exception e) when (!(e is OperationCanceledException && token.IsCancellationRequested))
        {
            RecordSourceFault(e);
        }
        finally
        {
            _segments.Complete();
        }
    }

    /// <summary>
    /// Finds frames in the segment's buffer, reading more of the input straight into it when the next frame is not all
    /// there; stops when the segment is full (<see cref="Segment.IsFull"/>: bytes read past its last frame are left for
    /// the next segment) or at the end. A read asks for about what the segment's remaining budget takes at the average
    /// compression so far, and at least <see cref="BgzfFrame.MaxLength"/> bytes (no smaller than a stream's buffer, so a
    /// FileStream passes it straight through).
    /// </summary>
    /// <returns>True when the input ended cleanly.</returns>
    private bool Fill(Segment segment)
    {
        BgzfFrameReader frames = _remainder.Frames;
        while (!segment.IsFull(_maxBytes))
        {
            if (frames.TryTakeFrame(segment.Unparsed, out BgzfFrame frame, out int missing))
            {
                segment.AddFrame(frame);
                _lastFrameWasEofMarker = frame.IsEofMarker;
                _framesTaken++;
                _frameBytesTaken += frame.Length;
                _inflatedBytesTaken += frame.InflatedLength;
                continue;
            }

            if (missing == 0)
            {
                return true;
            }

            double ratio = _framesTaken == 0 || _inflatedBytesTaken == 0 ? (double)InitialFrameLengthGuess / BgzfFrame.MaxInflatedSize : (double)_frameBytesTaken / _inflatedBytesTaken;
            long budgetLeft = Math.Min((long)((_maxBytes - segment.InflatedLength) * ratio), _maxBytes - segment.FramesLength);
            long wanted = Math.Max(Math.Max(BgzfFrame.MaxLength, budgetLeft - segment.Unparsed.Length), missing);
            Span<byte> free = segment.FreeSpace((int)Math.Min(wanted, Array.MaxLength / 2));
            segment.AddRead(frames.ReadAhead(free[..(int)Math.Min(wanted, free.Length)], missing));
        }

        return false;
    }

    /// <summary>Keeps the bytes read past the segment's last frame for the next segment (its buffer is freed once inflated).</summary>
    private void KeepUnparsed(Segment segment)
    {
        ReadOnlySpan<byte> unparsed = segment.Unparsed;
        if (unparsed.Length > _unparsed.Length)
        {
            _unparsed = new byte[unparsed.Length];
        }

        unparsed.CopyTo(_unparsed);
        _unparsedLength = unparsed.Length;
    }

    /// <summary>A segment the reader took and did not send (the input ended, or the run stopped).</summary>
    private void FreeUnsent(Segment segment)
    {
        segment.Walked.TrySetNull();
        segment.ReleaseCompressed();
        FreeInflated(segment);
    }

    /// <summary>
    /// On a worker: inflates the segment, waits for the carry of the segment before it, walks its records and returns
    /// them as chunks (usually one; more where the record limit cuts a segment), passing its own carry to the next.
    /// </summary>
    private async Task<IEnumerable<RecordChunk>> ProcessAsync(Segment segment)
    {
        try
        {
            if (!_sourceStop.IsCancellationRequested)
            {
                long inflateStart = System.Diagnostics.Stopwatch.GetTimestamp();
                Inflate(segment);
                _inflateClock.Add(inflateStart);
            }

            segment.ReleaseCompressed();
            Carry? carry = await segment.Previous.WaitAsync(_faults.Token).ConfigureAwait(true); // resume on the run's scheduler
            if (carry is null || _sourceStop.IsCancellationRequested)
            {
                carry?.Return();
                segment.Walked.TrySetNull(); // an earlier segment ended the input (its error, or the record limit)
                FreeInflated(segment);
                return [];
            }

            long walkStart = System.Diagnostics.Stopwatch.GetTimestamp();
            List<RecordChunk> chunks = Walk(segment, carry);
            _chunkClock.Add(walkStart);
            return chunks;
        }
        catch (Exception e)
        {
            segment.Walked.TrySetNull();
            FreeInflated(segment);
            if (!(e is OperationCanceledException && _faults.Token.IsCancellationRequested))
            {
                RecordSourceFault(e);
            }

            return [];
        }
        finally
        {
            segment.ReleaseCompressed();
            _spareSegments.Add(segment);
        }
    }

    /// <summary>Pure CPU: inflates every frame of the segment, after the room kept for the carry (one inflater per worker).</summary>
    private void Inflate(Segment segment)
    {
        IBgzfInflater inflater = _inflaters.TryTake(out IBgzfInflater? pooled) ? pooled : BgzfInflater.Create(_inflaterKind);
        try
        {
            int reserve = Volatile.Read(ref _reserve);
            segment.Inflate(inflater, _inflatedBuffers.Rent(reserve + segment.InflatedLength + BgzfFrame.MaxInflatedSize), reserve, _fileName);
        }
        finally
        {
            _inflaters.Add(inflater);
        }
    }

    /// <summary>
    /// Gives a segment's inflated buffer back to the pool, unless it was grown for a long record (longer than a segment
    /// with the most room kept for a carry): such a buffer is left to the GC, so that one long record does not keep its
    /// memory for the rest of the run.
    /// </summary>
    private void ReturnInflated(byte[] array)
    {
        if (array.Length > (long)_maxBytes + _maxReserve + 4 * BgzfFrame.MaxInflatedSize)
        {
            _inflatedBuffers.Forget(array);
        }
        else
        {
            _inflatedBuffers.Return(array);
        }
    }

    /// <summary>Frees a segment that gave no chunks (once: its memory may have gone to its chunks already).</summary>
    private void FreeInflated(Segment segment)
    {
        if (segment.HandedOver)
        {
            return;
        }

        segment.HandedOver = true;
        if (segment.TakeInflated() is { } array)
        {
            ReturnInflated(array);
        }

        FreeSegmentSlot();
    }

    /// <summary>
    /// The segment's turn (every segment before it has walked): puts the carry in front of its bytes, cuts its records
    /// into chunks, and hands the bytes after its last whole record to the next segment.
    /// </summary>
    private List<RecordChunk> Walk(Segment segment, Carry carry)
    {
        if (carry.NeedsMoreThan(segment.GoodLength))
        {
            return PassOn(segment, carry);
        }

        int carried = carry.Length;
        if (carried > segment.Reserve)
        {
            // A record longer than the room kept for it: this segment's bytes move once, later segments keep more room
            // (up to a quarter of a segment: a longer record moves the segment that completes it, once).
            byte[] grown = _inflatedBuffers.Rent(carried + segment.GoodLength + BgzfFrame.MaxInflatedSize);
            byte[] old = segment.Relocate(grown, carried);
            _inflatedBuffers.Return(old);
            Volatile.Write(ref _reserve, Math.Max(Volatile.Read(ref _reserve), (int)Math.Min(carried + ((long)carried >> 2), _maxReserve)));
        }

        byte[] data = segment.Inflated!;
        int reserve = segment.Reserve;
        int begin = reserve - carried, end = reserve + segment.GoodLength;
        carry.Bytes.AsSpan(0, carried).CopyTo(data.AsSpan(begin));
        VirtualPosition carryPosition = carry.Position;
        carry.Return();

        segment.HandedOver = true; // the chunks free it, and the segment's slot
        var shared = new SharedBuffer(segment.TakeInflated()!, _freeInflated);
        var chunks = new List<RecordChunk>(1);
        long recordIndex = _recordsCut;
        int p = begin, chunkStart = begin, count = 0, frame = 0;
        ulong[] positions = ArrayPool<ulong>.Shared.Rent(PositionsFor(end - begin));
        Exception? fault = null;
        // With no carry, the records start where the segment's own bytes do: the walk done frame by frame as they were
        // inflated (while in cache) is the true one, and only its record starts are read here.
        bool walked = carried == 0;
        int[] starts = segment.RecordStarts;
        int walkedCount = segment.WalkedCount, next = 0;
        while (!_limitReached && end - p >= 4)
        {
            if (walked && next == walkedCount && !segment.WalkedInvalid)
            {
                break; // the rest runs on into the next segment
            }

            // The walked records' sizes follow from their starts; past them is only the invalid block_size, read here.
            int size = walked && next < walkedCount
                ? (++next < walkedCount ? starts[next] : segment.WalkedEnd) - p - 4
                : BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(p));

            VirtualPosition at = PositionAt(p);
            if (!BamRecordFraming.IsInRange(size, _maxRecordSize))
            {
                fault = BamRecordFraming.Check(size, _maxRecordSize, _fileName, recordIndex, at);
                break;
            }

            if (end - p - 4 < size)
            {
                break; // it runs on into the next segment
            }

            if (count == positions.Length)
            {
                ulong[] more = ArrayPool<ulong>.Shared.Rent(Math.Min(count * 2, _maxRecords));
                positions.AsSpan(0, count).CopyTo(more);
                ArrayPool<ulong>.Shared.Return(positions);
                positions = more;
            }

            positions[count++] = at.Value;
            p += 4 + size;
            recordIndex++;
            if (recordIndex >= _limit)
            {
                _limitReached = true;
            }

            if (count == _maxRecords && !_limitReached && end - p >= 4)
            {
                EmitChunk(chunks, shared, chunkStart, p, positions, count, recordIndex);
                positions = ArrayPool<ulong>.Shared.Rent(PositionsFor(end - p));
                chunkStart = p;
                count = 0;
            }
        }

        if (count > 0)
        {
            EmitChunk(chunks, shared, chunkStart, p, positions, count, recordIndex);
        }
        else
        {
            ArrayPool<ulong>.Shared.Return(positions);
        }

        fault ??= segment.Error; // a record cut short by a bad block: the block's error
        int recordLength = 0;
        if (fault is null && !_limitReached && end - p >= 4)
        {
            // A record that runs on into the next segment: its block_size is checked against the limit before any byte
            // of it is carried, so a corrupt one fails here, at once.
            int size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(p));
            fault = BamRecordFraming.Check(size, _maxRecordSize, _fileName, recordIndex, PositionAt(p));
            recordLength = 4 + size;
        }

        if (fault is not null)
        {
            RecordSourceFault(fault);
        }

        segment.Walked.SetResult(fault is null && !_limitReached ? Carry.Of(data.AsSpan(p, end - p), p < end ? PositionAt(p) : default, recordLength) : null);
        shared.Release(); // the walk's own reference: the chunks hold theirs
        return chunks;

        VirtualPosition PositionAt(int offset)
        {
            if (offset < reserve)
            {
                return new VirtualPosition(carryPosition.CompressedOffset, carryPosition.BlockOffset + (offset - begin));
            }

            while (frame + 1 < segment.GoodFrames && offset - reserve >= segment.InflatedStart(frame + 1))
            {
                frame++;
            }

            return new VirtualPosition(segment.Frame(frame).CompressedOffset, offset - reserve - segment.InflatedStart(frame));
        }
    }

    /// <summary>
    /// A segment that does not complete the record its carry starts (a record longer than a segment): its bytes are
    /// appended to the carry, which goes on to the next segment; the segment gives no chunks and is freed at once.
    /// </summary>
    private List<RecordChunk> PassOn(Segment segment, Carry carry)
    {
        Exception? fault = segment.Error; // the record is cut short by a bad block: the block's error
        if (fault is null)
        {
            carry.Append(segment.Inflated.AsSpan(segment.Reserve, segment.GoodLength));
        }
        else
        {
            carry.Return();
            RecordSourceFault(fault);
        }

        FreeInflated(segment);
        segment.Walked.SetResult(fault is null ? carry : null);
        return [];
    }

    /// <summary>A first size for the positions of the records in this many bytes (it grows as needed).</summary>
    private int PositionsFor(int bytes) => Math.Min(Math.Max(bytes / 256, 16), _maxRecords);

    private void EmitChunk(List<RecordChunk> chunks, SharedBuffer shared, int start, int end, ulong[] positions, int count, long recordIndexAfter)
    {
        shared.AddReference();
        chunks.Add(new RecordChunk(shared, start, end - start, positions, count, _referenceCount, _fileName)
        {
            Lenient = _lenient,
            FirstRecordIndex = recordIndexAfter - count,
            Sequence = _sequence++,
        });
        Volatile.Write(ref _recordsCut, recordIndexAfter); // readers use Interlocked.Read
    }

    /// <summary>After the last segment: the error of a record cut short by the end of the file, if any.</summary>
    private async Task FinishAsync()
    {
        try
        {
            try
            {
                await _reader.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_sourceStop.IsCancellationRequested)
            {
                // The front-end stopped on an error while the reader waited for a free segment: the segments it sent
                // must still reach the output (the chunks cut before the error), so this is no reason to stop here.
            }

            try
            {
                await _segments.Completion.ConfigureAwait(false);
            }
            catch (Exception) when (_sourceFault is not null || _faults.Token.IsCancellationRequested)
            {
                // The front-end stopped on its error (kept in _sourceFault) or the run was cancelled.
            }

            if (_lastWalk.IsCompletedSuccessfully && _lastWalk.Result is { } last)
            {
                int length = last.Length;
                int size = length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(last.Bytes) : 0;
                last.Return();
                if (length > 0 && _sourceFault is null && !_faults.Token.IsCancellationRequested && !_limitReached)
                {
                    throw BamRecordFormatException.Unreadable(BamRecordError.Truncated,
                        length < 4 ? $"file ends inside a record's block_size ({length} of 4 bytes)" : $"file ends inside a record: {size - (length - 4)} bytes of it are missing",
                        _fileName, _recordsCut, last.Position);
                }
            }
        }
        catch (Exception e) when (!(e is OperationCanceledException && _faults.Token.IsCancellationRequested))
        {
            RecordSourceFault(e);
        }
        finally
        {
            Output.Complete();
            _remainder.Frames.Dispose();
        }
    }

    /// <summary>Keeps the front-end's first error (thrown by <see cref="NextAsync"/> after the chunks before it) and stops reading.</summary>
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
        while (_inflaters.TryTake(out IBgzfInflater? inflater))
        {
            inflater.Dispose();
        }
    }

    /// <summary>
    /// The bytes after a segment's last whole record (the start of a record that runs on), for the next segment. When they
    /// hold a checked block_size (<see cref="RecordLength"/>), a segment that does not complete the record appends its bytes
    /// here and passes the carry on, so a record longer than a segment is copied once, into a buffer that grows
    /// geometrically up to the record's length, never again with every segment.
    /// </summary>
    private sealed class Carry
    {
        // Buffers up to this size come from the shared array pool; longer ones (long records) are left to the GC once used.
        private const int PooledLength = 1 << 20;

        private Carry(byte[] bytes, int length, VirtualPosition position, int recordLength)
        {
            Bytes = bytes;
            Length = length;
            Position = position;
            RecordLength = recordLength;
        }

        public byte[] Bytes { get; private set; }

        public int Length { get; private set; }

        /// <summary>Where its first byte is in the file (every record start in a carry is in that block).</summary>
        public VirtualPosition Position { get; }

        /// <summary>The whole length (4 + block_size) of the record it starts, once that block_size was checked; 0 otherwise.</summary>
        public int RecordLength { get; }

        /// <summary>Whether <paramref name="more"/> bytes do not complete the record the carry starts.</summary>
        public bool NeedsMoreThan(int more) => RecordLength > 0 && (long)Length + more < RecordLength;

        public static Carry Of(ReadOnlySpan<byte> bytes, VirtualPosition position, int recordLength = 0)
        {
            byte[] copy = bytes.IsEmpty ? [] : Allocate(bytes.Length);
            bytes.CopyTo(copy);
            return new Carry(copy, bytes.Length, position, recordLength);
        }

        /// <summary>Appends <paramref name="bytes"/> (which do not complete the record), growing geometrically up to the record's length.</summary>
        public void Append(ReadOnlySpan<byte> bytes)
        {
            int needed = Length + bytes.Length;
            if (needed > Bytes.Length)
            {
                byte[] grown = Allocate((int)Math.Min(Math.Max((long)Bytes.Length * 2, needed), Math.Max(RecordLength, needed)));
                Bytes.AsSpan(0, Length).CopyTo(grown);
                Return();
                Bytes = grown;
            }

            bytes.CopyTo(Bytes.AsSpan(Length));
            Length = needed;
        }

        public void Return()
        {
            if (Bytes.Length is > 0 and <= PooledLength)
            {
                ArrayPool<byte>.Shared.Return(Bytes);
            }

            Bytes = [];
        }

        private static byte[] Allocate(int length) => length <= PooledLength ? ArrayPool<byte>.Shared.Rent(length) : GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>
    /// A run of compressed BGZF frames (the bytes read past the last of them are the start of the next segment's), and
    /// then their inflated bytes in one buffer, after room for the carry of the segment before.
    /// </summary>
    private sealed class Segment
    {
        private readonly List<BgzfFrame> _frames = [];
        private readonly List<int> _frameStart = [];
        private readonly List<int> _inflatedStart = [];
        private ColumnBufferPool? _pool;
        private byte[]? _compressed;
        private int _framesEnd;
        private int _filled;

        public Task<Carry?> Previous { get; private set; } = Task.FromResult<Carry?>(null);

        /// <summary>Set by this segment's walk: its carry, or null when the input ends here (an error, the record limit).</summary>
        public WalkResult Walked { get; private set; } = new();

        public Exception? Error { get; set; }

        public int FrameCount => _frames.Count;

        /// <summary>The frames inflated without error.</summary>
        public int GoodFrames { get; private set; }

        /// <summary>The inflated bytes of the good frames.</summary>
        public int GoodLength { get; private set; }

        /// <summary>Total ISIZE of the frames.</summary>
        public int InflatedLength { get; private set; }

        /// <summary>Total compressed length of the frames.</summary>
        public int FramesLength => _framesEnd;

        public int CompressedLength => _filled;

        public byte[]? Inflated { get; private set; }

        public int Reserve { get; private set; }

        public ReadOnlySpan<byte> Unparsed => _compressed.AsSpan(_framesEnd, _filled - _framesEnd);

        /// <summary>Whether the frames have reached the budget (<see cref="ChunkRule.SegmentIsFull"/>).</summary>
        public bool IsFull(int maxBytes) => ChunkRule.SegmentIsFull(InflatedLength, _framesEnd, maxBytes);

        /// <summary>Empties the segment for reuse, with a compressed buffer of <paramref name="capacity"/> bytes from <paramref name="pool"/>.</summary>
        public void Start(ColumnBufferPool pool, int capacity, ReadOnlySpan<byte> unparsed, Task<Carry?> previous)
        {
            _pool = pool;
            HandedOver = false;
            _frames.Clear();
            _frameStart.Clear();
            _inflatedStart.Clear();
            Error = null;
            GoodFrames = GoodLength = InflatedLength = _framesEnd = 0;
            Inflated = null;
            Previous = previous;
            Walked = new WalkResult();
            _compressed = pool.Rent(capacity);
            _filled = 0;
            unparsed.CopyTo(FreeSpace(unparsed.Length));
            _filled = unparsed.Length;
        }

        /// <summary>At least <paramref name="wanted"/> bytes of room after those read (the buffer grows if needed).</summary>
        public Span<byte> FreeSpace(int wanted)
        {
            if (_compressed!.Length - _filled < wanted)
            {
                byte[] grown = _pool!.Rent((int)Math.Min(Math.Max((long)_compressed.Length * 2, (long)_filled + wanted), Array.MaxLength));
                _compressed.AsSpan(0, _filled).CopyTo(grown);
                _pool.Return(_compressed);
                _compressed = grown;
            }

            return _compressed.AsSpan(_filled);
        }

        public void AddRead(int count) => _filled += count;

        /// <summary>The frame at the start of <see cref="Unparsed"/>.</summary>
        public void AddFrame(BgzfFrame frame)
        {
            _frames.Add(frame);
            _frameStart.Add(_framesEnd);
            _framesEnd += frame.Length;
            InflatedLength += frame.InflatedLength;
        }

        public BgzfFrame Frame(int index) => _frames[index];

        /// <summary>Where frame <paramref name="index"/>'s bytes start, after the reserve.</summary>
        public int InflatedStart(int index) => _inflatedStart[index];

        /// <summary>
        /// The record starts found by walking from the first byte of the segment's own data as its frames were
        /// inflated: the true ones when the segment before hands over no carry.
        /// </summary>
        public int[] RecordStarts => _starts;

        public int WalkedCount { get; private set; }

        /// <summary>Where the walk stopped: after the last whole record, at a record the data does not yet hold all of, or at an invalid block_size.</summary>
        public int WalkedEnd { get; private set; }

        /// <summary>Whether the walk stopped at a block_size too small to be a record's.</summary>
        public bool WalkedInvalid { get; private set; }

        private int[] _starts = new int[4096];

        private void WalkAhead(byte[] data, int limit)
        {
            int p = WalkedEnd;
            while (!WalkedInvalid && limit - p >= 4)
            {
                int size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(p));
                if (size < BamRecord.FixedLength + 1)
                {
                    WalkedInvalid = true;
                    break;
                }

                if (limit - p - 4 < size)
                {
                    break;
                }

                if (WalkedCount == _starts.Length)
                {
                    Array.Resize(ref _starts, _starts.Length * 2);
                }

                _starts[WalkedCount++] = p;
                p += 4 + size;
            }

            WalkedEnd = p;
        }

        public void Inflate(IBgzfInflater inflater, byte[] destination, int reserve, string? fileName)
        {
            Inflated = destination;
            Reserve = reserve;
            WalkedCount = 0;
            WalkedEnd = reserve;
            WalkedInvalid = false;
            int at = 0;
            for (int i = 0; i < _frames.Count; i++)
            {
                _inflatedStart.Add(at);
                BgzfFrame frame = _frames[i];
                try
                {
                    at += BgzfBlockDecoder.Decode(inflater, _compressed.AsSpan(_frameStart[i], frame.Length), frame, destination.AsSpan(reserve + at), fileName);
                    WalkAhead(destination, reserve + at);
                }
                catch (BamFormatException e)
                {
                    Error = e; // before any error the reader met after the last frame: this block comes first
                    break;
                }

                GoodFrames = i + 1;
            }

            GoodLength = at;
        }

        /// <summary>Moves the inflated bytes to <paramref name="grown"/>, after <paramref name="reserve"/> bytes; returns the old buffer.</summary>
        public byte[] Relocate(byte[] grown, int reserve)
        {
            byte[] old = Inflated!;
            old.AsSpan(Reserve, GoodLength).CopyTo(grown.AsSpan(reserve));
            Inflated = grown;
            Reserve = reserve;
            return old;
        }

        /// <summary>The inflated buffer, now someone else's to free (null if it was taken or never rented).</summary>
        public byte[]? TakeInflated()
        {
            byte[]? inflated = Inflated;
            Inflated = null;
            return inflated;
        }

        /// <summary>Whether the segment's memory (and its slot among the segments out) is no longer the segment's to free.</summary>
        public bool HandedOver { get; set; }

        public void ReleaseCompressed()
        {
            if (_compressed is not null)
            {
                _pool!.Return(_compressed);
                _compressed = null;
            }
        }
    }

    /// <summary>A segment's walk result, which the next segment awaits.</summary>
    private sealed class WalkResult : TaskCompletionSource<Carry?>
    {
        public WalkResult()
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
        }

        public void TrySetNull() => TrySetResult(null);
    }
}

/// <summary>
/// Where a chunk (and so a record batch) ends, the same on both paths (<see cref="ParallelRecordSource"/> and
/// <see cref="RecordChunker"/>): the records are grouped by the BGZF blocks they end in. A <i>segment</i> is the blocks from the one after the last segment's until their inflated bytes, or their
/// compressed bytes, reach the byte budget; a chunk holds the records that end in one segment (a record that ends
/// exactly at a block's end ends in that block), at most the record limit of them, so a segment with more records
/// gives several chunks. The records of the block the header ends in belong to the first segment.
/// </summary>
internal static class ChunkRule
{
    /// <summary>Whether blocks of these total inflated and compressed lengths make a full segment.</summary>
    public static bool SegmentIsFull(long inflatedLength, long compressedLength, int maxBytes) => inflatedLength >= maxBytes || compressedLength >= maxBytes;
}
