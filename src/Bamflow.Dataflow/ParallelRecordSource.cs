using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;

namespace Bamflow.Dataflow;

/// <summary>
/// The parallel front-end: the sequential reader reads the input in large runs straight into group buffers and finds
/// the compressed BGZF blocks in place (I/O only; a block cut by the end of a group's bytes goes on to the next); an
/// ordered <see cref="TransformBlock{TInput,TOutput}"/> inflates groups on every core; one chunker cuts the
/// inflated stream into <see cref="RecordChunk"/>s at record boundaries, into a bounded <see cref="BufferBlock{T}"/>
/// (the source block of the conversion graph). Group buffers come from a fixed pool sized by the capacities.
/// A malformed block or record found here stops the front-end but not the run: the chunks cut before it still flow
/// (their records may hold an earlier error), and <see cref="NextAsync"/> throws it after the last of them, so the
/// run reports the first error in file order, as the sequential path does.
/// </summary>
internal sealed class ParallelRecordSource : IChunkSource
{
    private readonly BgzfRemainder _remainder;
    private readonly FirstFault _faults;
    private readonly CancellationTokenSource _sourceStop;
    private ExceptionDispatchInfo? _sourceFault;
    private readonly int _referenceCount;
    private readonly bool _lenient;
    private readonly string? _fileName;
    private readonly BgzfInflaterKind _inflaterKind;
    private readonly int _maxRecords;
    private readonly int _maxBytes;
    private readonly long _limit;
    private readonly BufferBlock<FrameGroup> _groups = new();
    private readonly ConcurrentBag<IBgzfInflater> _inflaters = [];
    private readonly ColumnBufferPool _chunkBuffers = ColumnBufferPool.CreatePooling();
    private readonly TransformBlock<FrameGroup, FrameGroup> _inflate;
    private readonly ActionBlock<FrameGroup> _chunker;
    private readonly Task _reader;
    private readonly Task _finished;
    private readonly StageClock _readClock = new("read", 1);
    private readonly StageClock _waitClock = new("read: waiting (backpressure)", 1);
    private readonly StageClock _inflateClock;
    private readonly StageClock _chunkClock = new("chunk", 1);

    // Chunks out (cut and not yet released) and the limit on them: the run's chunk memory. At the limit, the cutter
    // stops at the next record that needs a new chunk, until one is released (a release signals, and the cutter
    // rechecks the count; a signal is only added when none is pending, so the count stays at most one per worker).
    private readonly SemaphoreSlim _chunkReleased = new(0);
    private readonly Action _onChunkReleased;
    private int _chunksOut;
    private int _peakChunksOut;
    private int _chunkLimit;

    // Chunker state (one thread at a time: the chunker block has MaxDegreeOfParallelism 1).
    private readonly byte[] _sizeBytes = new byte[4];
    private readonly List<RecordChunk> _ready = [];
    private RecordChunk? _current;
    private int _sizeHave;
    private long _recordRemaining;
    private VirtualPosition _recordStart;
    private long _recordsCut;
    private long _sequence;
    private int _lastChunkLength;
    private volatile bool _limitReached;
    private long _compressedBytesRead;
    private bool _lastFrameWasEofMarker;
    private bool _reachedEnd;

    // Reader state: the frames taken so far and their bytes, for the size of the next read.
    private const int InitialFrameLengthGuess = 32 * 1024;
    private long _framesTaken;
    private long _frameBytesTaken;

    public ParallelRecordSource(BgzfRemainder remainder, int referenceCount, string? fileName, BgzfInflaterKind inflater, TaskScheduler scheduler, int threads, int maxRecords, int maxBytes, long? limit, bool lenient, int chunkLimit, FirstFault faults)
    {
        _chunkLimit = chunkLimit;
        _remainder = remainder;
        _referenceCount = referenceCount;
        _lenient = lenient;
        _fileName = fileName;
        _inflaterKind = inflater;
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
        _limit = limit ?? long.MaxValue;
        _limitReached = _limit == 0;
        _faults = faults;
        _sourceStop = CancellationTokenSource.CreateLinkedTokenSource(faults.Token);
        _lastFrameWasEofMarker = remainder.LastFrameWasEofMarker;
        _reachedEnd = remainder.AtEnd;
        _compressedBytesRead = remainder.Frames.CompressedOffset;

        _onChunkReleased = () =>
        {
            Interlocked.Decrement(ref _chunksOut);
            SignalChunkReleased();
        };
        _inflateClock = new StageClock("inflate", threads);
        int inflateCapacity = Math.Max(2, threads * 2);
        for (int i = 0; i < inflateCapacity + 3; i++)
        {
            _groups.Post(new FrameGroup());
        }

        CancellationToken token = _sourceStop.Token;
        _inflate = new TransformBlock<FrameGroup, FrameGroup>(
            group => SourceGuard(() => _inflateClock.Time(() => Inflate(group))),
            new ExecutionDataflowBlockOptions
            {
                MaxDegreeOfParallelism = threads,
                EnsureOrdered = true,
                BoundedCapacity = inflateCapacity,
                SingleProducerConstrained = true,
                CancellationToken = token,
                TaskScheduler = scheduler,
            });
        _chunker = new ActionBlock<FrameGroup>(
            group => CutAsync(group),
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, BoundedCapacity = 1, SingleProducerConstrained = true, CancellationToken = token, TaskScheduler = scheduler });
        _inflate.LinkTo(_chunker, new DataflowLinkOptions { PropagateCompletion = true });
        Output = new BufferBlock<RecordChunk>(new DataflowBlockOptions { BoundedCapacity = 1, CancellationToken = faults.Token });

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

    /// <summary>The most chunks that were out (cut and not yet released) at once.</summary>
    public int PeakChunksOut => Volatile.Read(ref _peakChunksOut);

    /// <summary>
    /// From now on, cut no further while this many chunks are out and not yet released. Planning raises it by the
    /// chunks it holds; the run sets it to unlimited when a block of the user's might hold chunks.
    /// </summary>
    public void LimitChunksOut(int limit)
    {
        Volatile.Write(ref _chunkLimit, limit);
        SignalChunkReleased(); // the cutter may be waiting under an older limit
    }

    private void SignalChunkReleased()
    {
        if (_chunkReleased.CurrentCount == 0)
        {
            _chunkReleased.Release();
        }
    }

    /// <summary>The front-end's stages: reading (and its waits on backpressure), inflating, chunking.</summary>
    public IEnumerable<StageClock> Clocks => [_readClock, _waitClock, _inflateClock, _chunkClock];

    /// <summary>Completes when the front-end has finished (or failed: the failure is in the run's faults).</summary>
    public Task Completion => _finished;

    /// <summary>
    /// The sequential I/O: the input into group buffers, cut into whole frames, nothing else. Its awaits resume where it
    /// was started (ConfigureAwait(true)): on the run's scheduler for a file, so every read counts in --threads.
    /// </summary>
    private async Task ReadAsync()
    {
        CancellationToken token = _sourceStop.Token;
        try
        {
            if (_remainder.Buffered.Length > 0)
            {
                FrameGroup group = await _groups.ReceiveAsync(token).ConfigureAwait(true);
                group.SetPrefix(_remainder.Buffered, _remainder.BufferedPosition);
                await _inflate.SendAsync(group, token).ConfigureAwait(true);
            }

            bool end = _reachedEnd;
            FrameGroup? previous = null;
            while (!end && !_limitReached)
            {
                long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
                FrameGroup group = await _groups.ReceiveAsync(token).ConfigureAwait(true);
                _waitClock.AddTime(waitStart);
                long readStart = System.Diagnostics.Stopwatch.GetTimestamp();

                // The bytes read past the last group's frames (its compressed buffer is only read while it is inflated,
                // and only this reader writes one, so they are still there even if that group came back as this one).
                group.Reset(previous is null ? default : previous.Unparsed);
                try
                {
                    end = Fill(group);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A malformed or cut block: it travels after the frames before it, so the chunker meets it in order.
                    group.Error = e;
                    end = true;
                }

                Interlocked.Exchange(ref _compressedBytesRead, _remainder.Frames.CompressedOffset);
                _readClock.Add(readStart);
                waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
                if ((group.FrameCount == 0 && group.Error is null) || !await _inflate.SendAsync(group, token).ConfigureAwait(true))
                {
                    _groups.Post(group);
                }

                previous = group;
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
            _inflate.Complete();
        }
    }

    /// <summary>
    /// Finds frames in the group's buffer, reading more of the input straight into it when the next frame is not all
    /// there; stops when the group is full (bytes read past its last frame are left for the next group) or at the end.
    /// A read asks for about what the group's remaining frames take at the average frame length so far, and at least
    /// <see cref="BgzfFrame.MaxLength"/> bytes (no smaller than a stream's buffer, so a FileStream passes it straight through).
    /// </summary>
    /// <returns>True when the input ended cleanly.</returns>
    private bool Fill(FrameGroup group)
    {
        BgzfFrameReader frames = _remainder.Frames;
        while (!group.IsFull)
        {
            if (frames.TryTakeFrame(group.Unparsed, out BgzfFrame frame, out int missing))
            {
                group.AddFrame(frame);
                _lastFrameWasEofMarker = frame.IsEofMarker;
                _framesTaken++;
                _frameBytesTaken += frame.Length;
                continue;
            }

            if (missing == 0)
            {
                return true;
            }

            long averageFrame = _framesTaken == 0 ? InitialFrameLengthGuess : _frameBytesTaken / _framesTaken;
            long wanted = Math.Max(BgzfFrame.MaxLength, (group.FramesLeft * averageFrame) - group.Unparsed.Length);
            Span<byte> free = group.FreeSpace;
            group.AddRead(frames.ReadAhead(free[..(int)Math.Min(Math.Max(wanted, missing), free.Length)], missing));
        }

        return false;
    }

    /// <summary>Pure CPU: inflates every frame of the group into its inflated buffer (one inflater per worker).</summary>
    private FrameGroup Inflate(FrameGroup group)
    {
        IBgzfInflater inflater = _inflaters.TryTake(out IBgzfInflater? pooled) ? pooled : BgzfInflater.Create(_inflaterKind);
        try
        {
            group.Inflate(inflater, _fileName);
        }
        finally
        {
            _inflaters.Add(inflater);
        }

        return group;
    }

    /// <summary>Sequential: walks record boundaries through the inflated bytes and copies records into chunks.</summary>
    private async Task CutAsync(FrameGroup group)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp(), waited = 0;
        try
        {
            if (!_limitReached && _sourceFault is null)
            {
                for (int s = 0; s < group.SegmentCount && !_limitReached; s++)
                {
                    int done = 0;
                    while (true)
                    {
                        ReadOnlySpan<byte> segment = group.Segment(s, out long compressedOffset, out int blockOffset);
                        done += Cut(segment[done..], compressedOffset, blockOffset + done);
                        if (done == segment.Length || _limitReached)
                        {
                            break;
                        }

                        // At the chunk limit with a record to start: hand over what is cut, wait for a chunk to be released.
                        long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
                        await SendReadyAsync().ConfigureAwait(true); // resume on the run's scheduler
                        while (AtChunkLimit)
                        {
                            await _chunkReleased.WaitAsync(_sourceStop.Token).ConfigureAwait(true);
                        }

                        waited += System.Diagnostics.Stopwatch.GetTimestamp() - waitStart;
                    }
                }

                if (group.Error is { } error && !_limitReached)
                {
                    RecordSourceFault(error); // the group's frames before the bad block are cut: now its error, in file order
                }
            }
        }
        catch (OperationCanceledException) when (_sourceStop.IsCancellationRequested)
        {
            // The run stopped.
        }
        catch (Exception e)
        {
            // A record that cannot be cut (block_size too small): the chunks before it still go out, then the error.
            RecordSourceFault(e);
        }
        finally
        {
            _groups.Post(group);
            _chunkClock.Add(start + waited);
        }

        await SendReadyAsync().ConfigureAwait(false);
    }

    /// <summary>Whether a new chunk may not be started now.</summary>
    private bool AtChunkLimit => Volatile.Read(ref _chunksOut) >= Volatile.Read(ref _chunkLimit);

    /// <summary>Whether the record starting now needs a new chunk that the limit does not allow yet.</summary>
    private bool MustWaitForChunk => (_current is null || _current.Count >= _maxRecords || _current.Length >= _maxBytes) && AtChunkLimit;

    /// <summary>Sends the chunks cut so far, in order.</summary>
    private async Task SendReadyAsync()
    {
        try
        {
            foreach (RecordChunk chunk in _ready)
            {
                await Output.SendAsync(chunk, _faults.Token).ConfigureAwait(true);
            }
        }
        catch (OperationCanceledException) when (_faults.Token.IsCancellationRequested)
        {
            // The run stopped: nothing takes chunks any more.
        }

        _ready.Clear();
    }

    /// <summary>
    /// Cuts records from <paramref name="data"/> into chunks; returns the bytes consumed: all of them, unless a record
    /// must wait for a chunk (<see cref="MustWaitForChunk"/>) or the limit on records was reached.
    /// </summary>
    private int Cut(ReadOnlySpan<byte> data, long compressedOffset, int blockOffset)
    {
        int p = 0;
        while (p < data.Length)
        {
            if (_recordRemaining == 0 && _sizeHave == 0 && MustWaitForChunk)
            {
                EndFullChunk(); // it can be converted while the cutter waits
                return p;
            }

            if (_recordRemaining == 0 && _sizeHave == 0 && data.Length - p >= 4)
            {
                // The common case: the whole record is in this block: one copy.
                int size = BinaryPrimitives.ReadInt32LittleEndian(data[p..]);
                if (size >= BamRecord.FixedLength + 1 && data.Length - p - 4 >= size)
                {
                    StartRecord(compressedOffset, blockOffset + p);
                    _current!.Append(data.Slice(p, 4 + size));
                    p += 4 + size;
                    if (EndRecord())
                    {
                        return p;
                    }

                    continue;
                }
            }

            if (_recordRemaining == 0)
            {
                if (_sizeHave == 0)
                {
                    StartRecord(compressedOffset, blockOffset + p);
                }

                int take = Math.Min(4 - _sizeHave, data.Length - p);
                data.Slice(p, take).CopyTo(_sizeBytes.AsSpan(_sizeHave));
                _current!.Append(data.Slice(p, take));
                _sizeHave += take;
                p += take;
                if (_sizeHave == 4)
                {
                    int blockSize = BinaryPrimitives.ReadInt32LittleEndian(_sizeBytes);
                    if (blockSize < BamRecord.FixedLength + 1)
                    {
                        throw BamRecordFormatException.Unreadable(BamRecordError.BlockSizeTooSmall,
                            $"block_size {blockSize} is smaller than the {BamRecord.FixedLength + 1} bytes of a record's fixed fields and name", _fileName, _recordsCut, _recordStart);
                    }

                    _recordRemaining = blockSize;
                }
            }
            else
            {
                int take = (int)Math.Min(_recordRemaining, data.Length - p);
                _current!.Append(data.Slice(p, take));
                _recordRemaining -= take;
                p += take;
                if (_recordRemaining == 0)
                {
                    _sizeHave = 0;
                    if (EndRecord())
                    {
                        return p;
                    }
                }
            }
        }

        return data.Length;
    }

    /// <summary>Moves the current chunk to the ready ones if it is full.</summary>
    private void EndFullChunk()
    {
        if (_current is not null && (_current.Count >= _maxRecords || _current.Length >= _maxBytes))
        {
            _lastChunkLength = _current.Length;
            _ready.Add(_current);
            _current = null;
        }
    }

    /// <summary>A record starts at this position: ends a full chunk, starts a new one if needed.</summary>
    private void StartRecord(long compressedOffset, int blockOffset)
    {
        _recordStart = new VirtualPosition(compressedOffset, blockOffset);
        EndFullChunk();

        // Size a new chunk like the last full one, so its buffer does not grow by doubling.
        if (_current is null)
        {
            int chunksOut = Interlocked.Increment(ref _chunksOut);
            if (chunksOut > _peakChunksOut)
            {
                Volatile.Write(ref _peakChunksOut, chunksOut); // one writer (the chunker)
            }

            _current = new RecordChunk(_chunkBuffers, Math.Max(RecordChunk.InitialCapacity(_maxRecords, _maxBytes), _lastChunkLength + (_lastChunkLength >> 4)), _maxBytes, _referenceCount, _fileName)
            {
                Released = _onChunkReleased,
                Lenient = _lenient,
                FirstRecordIndex = _recordsCut,
                Sequence = _sequence++,
            };
        }

        _current.BeginRecord(_recordStart);
    }

    /// <summary>The current record is complete; returns true when the limit is reached.</summary>
    private bool EndRecord()
    {
        _current!.EndRecord();
        Volatile.Write(ref _recordsCut, _recordsCut + 1); // one writer (the chunker); readers use Interlocked.Read
        if (_recordsCut >= _limit)
        {
            _limitReached = true;
            return true;
        }

        return false;
    }

    /// <summary>After the last group: the final chunk, or the error of a record cut short by the end of the file.</summary>
    private async Task FinishAsync()
    {
        try
        {
            await _reader.ConfigureAwait(false);
            try
            {
                await _chunker.Completion.ConfigureAwait(false);
            }
            catch (Exception) when (_sourceFault is not null || _faults.Token.IsCancellationRequested)
            {
                // The front-end stopped on its error (kept in _sourceFault) or the run was cancelled.
            }

            if (_sourceFault is null && !_faults.Token.IsCancellationRequested && !_limitReached && (_sizeHave > 0 || _recordRemaining > 0))
            {
                throw BamRecordFormatException.Unreadable(BamRecordError.Truncated,
                    _sizeHave < 4 ? $"file ends inside a record's block_size ({_sizeHave} of 4 bytes)" : $"file ends inside a record: {_recordRemaining} bytes of it are missing",
                    _fileName, _recordsCut, _recordStart);
            }

            await SendLastAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && _faults.Token.IsCancellationRequested))
        {
            RecordSourceFault(e);
            await SendLastAsync().ConfigureAwait(false);
        }
        finally
        {
            Output.Complete();
            _remainder.Frames.Dispose();
        }
    }

    /// <summary>The chunk being filled (whole records before the end or the error) goes out last, unless the run stopped.</summary>
    private async Task SendLastAsync()
    {
        if (_current is { Count: > 0 } last && !_faults.Token.IsCancellationRequested)
        {
            _current = null;
            try
            {
                await Output.SendAsync(last, _faults.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_faults.Token.IsCancellationRequested)
            {
                // The run stopped meanwhile.
            }
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

    private T SourceGuard<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (!(e is OperationCanceledException && _sourceStop.IsCancellationRequested))
        {
            RecordSourceFault(e);
            throw;
        }
    }

    public void Dispose()
    {
        while (_inflaters.TryTake(out IBgzfInflater? inflater))
        {
            inflater.Dispose();
        }
    }
}

/// <summary>
/// A group of compressed BGZF frames and their inflated bytes, recycled through a fixed pool. The compressed buffer holds
/// the frames and then the bytes read past the last of them (the start of the next group's frames); at most
/// <see cref="MaxFrames"/> frames of at most <see cref="BgzfFrame.MaxLength"/> bytes, so a frame started always fits.
/// </summary>
internal sealed class FrameGroup
{
    private const int MaxFrames = 32;
    private readonly byte[] _compressed = new byte[MaxFrames * BgzfFrame.MaxLength];
    private readonly byte[] _inflated = new byte[MaxFrames * BgzfFrame.MaxInflatedSize];
    private readonly BgzfFrame[] _frames = new BgzfFrame[MaxFrames];
    private readonly int[] _frameStart = new int[MaxFrames];
    private readonly int[] _inflatedStart = new int[MaxFrames + 1];
    private int _framesEnd;
    private int _filled;
    private int _inflatedFrames;
    private int _prefixLength;
    private VirtualPosition _prefixPosition;

    public int FrameCount { get; private set; }

    /// <summary>The error that ends the input at this group (a block that could not be read or inflated), after its good frames.</summary>
    public Exception? Error { get; set; }

    public bool IsFull => FrameCount == MaxFrames;

    public int FramesLeft => MaxFrames - FrameCount;

    /// <summary>Bytes read past the last frame.</summary>
    public ReadOnlySpan<byte> Unparsed => _compressed.AsSpan(_framesEnd, _filled - _framesEnd);

    /// <summary>Room for more bytes of the input, after those read.</summary>
    public Span<byte> FreeSpace => _compressed.AsSpan(_filled);

    /// <summary>Inflated runs: the prefix (if any), else one per frame.</summary>
    public int SegmentCount => _prefixLength > 0 ? 1 : _inflatedFrames;

    public void Reset()
    {
        Error = null;
        _inflatedFrames = 0;
        FrameCount = 0;
        _framesEnd = 0;
        _filled = 0;
        _prefixLength = 0;
    }

    /// <summary>Empties the group, then starts its bytes with <paramref name="unparsed"/> (may be this group's own).</summary>
    public void Reset(ReadOnlySpan<byte> unparsed)
    {
        Reset();
        unparsed.CopyTo(_compressed);
        _filled = unparsed.Length;
    }

    /// <summary><paramref name="count"/> bytes were read into <see cref="FreeSpace"/>.</summary>
    public void AddRead(int count) => _filled += count;

    /// <summary>The frame at the start of <see cref="Unparsed"/>.</summary>
    public void AddFrame(BgzfFrame frame)
    {
        _frames[FrameCount] = frame;
        _frameStart[FrameCount] = _framesEnd;
        _framesEnd += frame.Length;
        FrameCount++;
    }

    /// <summary>Makes this group carry bytes inflated already (the rest of the block the header ended in).</summary>
    public void SetPrefix(byte[] inflated, VirtualPosition position)
    {
        Reset();
        inflated.CopyTo(_inflated, 0);
        _prefixLength = inflated.Length;
        _prefixPosition = position;
    }

    public void Inflate(IBgzfInflater inflater, string? fileName)
    {
        int at = 0;
        _inflatedFrames = 0;
        for (int i = 0; i < FrameCount; i++)
        {
            _inflatedStart[i] = at;
            BgzfFrame frame = _frames[i];
            try
            {
                at += BgzfBlockDecoder.Decode(inflater, _compressed.AsSpan(_frameStart[i], frame.Length), frame, _inflated.AsSpan(at), fileName);
            }
            catch (BamFormatException e)
            {
                Error = e; // before any error the reader met after the last frame: this block comes first
                break;
            }

            _inflatedFrames = i + 1;
        }

        _inflatedStart[_inflatedFrames] = at;
    }

    public ReadOnlySpan<byte> Segment(int index, out long compressedOffset, out int blockOffset)
    {
        if (_prefixLength > 0)
        {
            compressedOffset = _prefixPosition.CompressedOffset;
            blockOffset = _prefixPosition.BlockOffset;
            return _inflated.AsSpan(0, _prefixLength);
        }

        compressedOffset = _frames[index].CompressedOffset;
        blockOffset = 0;
        return _inflated.AsSpan(_inflatedStart[index], _inflatedStart[index + 1] - _inflatedStart[index]);
    }
}
