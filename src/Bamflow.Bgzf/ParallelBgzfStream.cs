using System.Buffers;
using System.Threading.Channels;

namespace Bamflow.Bgzf;

/// <summary>
/// A read-only <see cref="Stream"/> of a BGZF file's inflated bytes, inflated on several cores: the reader stack without
/// the engine. One task reads segments of whole blocks (<see cref="BgzfSegmentReader"/>, I/O only); each segment is
/// inflated on the thread pool (<see cref="BgzfSegment.InflateFrame"/>, a pure function); reads take the inflated
/// segments in file order. At most <c>threads + 1</c> segments are in flight, so memory is bounded by
/// <c>(threads + 1) × segmentBytes</c> whatever the file. A malformed block is thrown by the read that reaches it,
/// after every byte before it.
/// </summary>
public sealed class ParallelBgzfStream : Stream
{
    private readonly BgzfSegmentReader _reader;
    private readonly Channel<Task<Inflated>> _ready;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private readonly int _segmentBytes;
    private readonly BgzfInflaterKind _inflaterKind;
    private readonly string? _fileName;
    private readonly System.Collections.Concurrent.ConcurrentBag<BgzfSegment> _spareSegments = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<IBgzfInflater> _inflaters = [];
    private Inflated? _current;
    private int _offset;
    private long _position;
    private bool _ended;

    /// <summary>Reads <paramref name="stream"/> (a file or a pipe) from its current position, inflating on <paramref name="threads"/> threads.</summary>
    /// <param name="stream">The BGZF input.</param>
    /// <param name="threads">Segments inflated at once (default: the cores).</param>
    /// <param name="segmentBytes">About how many inflated bytes a segment holds (default 4 MiB).</param>
    /// <param name="inflater">The inflate backend.</param>
    /// <param name="fileName">Name used in error messages.</param>
    /// <param name="leaveOpen">Whether disposing this stream leaves <paramref name="stream"/> open.</param>
    public ParallelBgzfStream(Stream stream, int threads = 0, int segmentBytes = 4 << 20, BgzfInflaterKind inflater = BgzfInflaterKind.Auto, string? fileName = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentBytes, 1);
        threads = threads == 0 ? Environment.ProcessorCount : threads;
        _reader = new BgzfSegmentReader(stream, fileName, leaveOpen);
        _segmentBytes = segmentBytes;
        _inflaterKind = inflater;
        _fileName = fileName;
        _ready = Channel.CreateBounded<Task<Inflated>>(new BoundedChannelOptions(threads) { SingleReader = true, SingleWriter = true });
        _producer = Task.Run(ProduceAsync);
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <summary>Inflated bytes read so far.</summary>
    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>Whether the input ended without the BGZF EOF marker block (known once the stream has been read to its end).</summary>
    public bool MissingEofMarker => _ended && _reader.MissingEofMarker;

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        while (!HasBytes(buffer.Length))
        {
            if (_ended)
            {
                return 0;
            }

            Take(WaitNext().AsTask().GetAwaiter().GetResult());
        }

        return Copy(buffer);
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!HasBytes(buffer.Length))
        {
            if (_ended)
            {
                return 0;
            }

            Take(await WaitNext(cancellationToken).ConfigureAwait(false));
        }

        return Copy(buffer.Span);
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            try
            {
                _producer.Wait();
            }
            catch (AggregateException)
            {
                // its errors were for the reads that did not happen
            }

            while (_ready.Reader.TryRead(out Task<Inflated>? pending))
            {
                if (pending.Wait(Timeout.Infinite) && pending.IsCompletedSuccessfully)
                {
                    pending.Result.Return();
                }
            }

            _current?.Return();
            _current = null;
            _reader.Dispose();
            while (_inflaters.TryTake(out IBgzfInflater? inflater))
            {
                inflater.Dispose();
            }

            _stop.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Whether the current segment has bytes for a read (throws its error once they are all read).</summary>
    private bool HasBytes(int wanted)
    {
        if (_current is not { } current)
        {
            return false;
        }

        if (_offset < current.Length || wanted == 0)
        {
            return true;
        }

        if (current.Error is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error); // after every byte before it, every time
        }

        return false;
    }

    private async ValueTask<Inflated> WaitNext(CancellationToken cancellationToken = default)
    {
        if (!await _ready.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) || !_ready.Reader.TryRead(out Task<Inflated>? next))
        {
            await _producer.ConfigureAwait(false);
            return Inflated.End;
        }

        return await next.ConfigureAwait(false);
    }

    private void Take(Inflated next)
    {
        _current?.Return();
        _current = null;
        if (next.IsEnd)
        {
            _ended = true;
            return;
        }

        _current = next;
        _offset = 0;
    }

    private int Copy(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _current!.Length - _offset);
        _current.Bytes.AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        _position += n;
        return n;
    }

    /// <summary>Reads segments and starts inflating each on the thread pool, in order, at most the channel's capacity ahead.</summary>
    private async Task ProduceAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                BgzfSegment segment = _spareSegments.TryTake(out BgzfSegment? spare) ? spare : new BgzfSegment();
                if (!_reader.TryRead(segment, _segmentBytes))
                {
                    break;
                }

                bool last = segment.ReadError is not null;
                await _ready.Writer.WriteAsync(Task.Run(() => Inflate(segment)), _stop.Token).ConfigureAwait(false);
                if (last)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            // An I/O failure: it goes out in order, after the segments before it.
            await _ready.Writer.WriteAsync(Task.FromResult(new Inflated([], 0, e)), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _ready.Writer.TryComplete();
        }
    }

    private Inflated Inflate(BgzfSegment segment)
    {
        byte[] bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, segment.TotalInflatedLength));
        IBgzfInflater inflater = _inflaters.TryTake(out IBgzfInflater? pooled) ? pooled : BgzfInflater.Create(_inflaterKind);
        int at = 0;
        Exception? error = null;
        try
        {
            for (int i = 0; i < segment.FrameCount; i++)
            {
                at += segment.InflateFrame(i, inflater, bytes.AsSpan(at), _fileName);
            }
        }
        catch (BamFormatException e)
        {
            error = e;
        }
        finally
        {
            _inflaters.Add(inflater);
        }

        error ??= segment.ReadError;
        segment.ReleaseCompressed();
        _spareSegments.Add(segment);
        return new Inflated(bytes, at, error);
    }

    /// <summary>A segment's inflated bytes (rented), and the error that follows them, if any.</summary>
    private sealed class Inflated(byte[] bytes, int length, Exception? error)
    {
        public static Inflated End { get; } = new([], -1, null);

        public byte[] Bytes { get; private set; } = bytes;

        public int Length { get; } = length;

        public bool IsEnd => Length < 0;

        public Exception? Error { get; } = error;

        public void Return()
        {
            if (Bytes.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(Bytes);
                Bytes = [];
            }
        }
    }
}
