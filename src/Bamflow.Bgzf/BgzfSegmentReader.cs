namespace Bamflow.Bgzf;

/// <summary>
/// A range of a BGZF file by virtual positions: from <see cref="Start"/> (included) to <see cref="End"/> (excluded), as
/// index chunks and shards give them. <see cref="ToEnd"/> reads on to the end of the file.
/// </summary>
/// <param name="Start">The first byte of the range.</param>
/// <param name="End">The byte after the range; <see cref="VirtualPosition"/> with value <see cref="ulong.MaxValue"/> for the end of the file.</param>
public readonly record struct BgzfRange(VirtualPosition Start, VirtualPosition End)
{
    /// <summary>The end of every file.</summary>
    public static VirtualPosition EndOfFile => new(ulong.MaxValue);

    /// <summary>A range from <paramref name="start"/> to the end of the file.</summary>
    public static BgzfRange ToEnd(VirtualPosition start) => new(start, EndOfFile);
}

/// <summary>
/// The I/O of the reader stack: reads a BGZF input into <see cref="BgzfSegment"/>s, runs of whole blocks of about a byte
/// budget each, and nothing else (no inflating, no parsing past the block headers). It reads the input in large runs
/// straight into the segment's buffer and finds the blocks in place. It reads a whole stream (a pipe too), or ranges of
/// virtual positions of a file, in the order given (it seeks between them): a segment never spans two ranges. A malformed
/// or cut block ends the reading: the segment that holds the blocks before it carries the error
/// (<see cref="BgzfSegment.ReadError"/>), so a consumer meets it in file order.
/// </summary>
public sealed class BgzfSegmentReader : IDisposable
{
    private const int InitialFrameLengthGuess = 32 * 1024;
    private const int MinimumBuffer = 256 << 10;

    private readonly BgzfFrameReader _frames;
    private readonly System.Collections.Concurrent.ConcurrentBag<byte[]> _spareBuffers = [];
    private readonly IEnumerator<BgzfRange>? _ranges;
    private BgzfRange _range;
    private int _rangeIndex = -1;
    private bool _inRange;
    private bool _startsRange = true;
    private bool _ended;
    private byte[] _unparsed = [];      // bytes read past the last segment's blocks (the start of the next one's)
    private int _unparsedLength;
    private int _lastCompressedLength;
    private long _sequence;
    private long _frameBytesTaken;
    private long _inflatedBytesTaken;
    private int _readEnd;               // how far the current segment's buffer holds input

    /// <summary>Reads all of <paramref name="stream"/>'s blocks, from its current position (compressed offset <paramref name="startOffset"/>).</summary>
    public BgzfSegmentReader(Stream stream, string? fileName = null, bool leaveOpen = false, long startOffset = 0)
        : this(new BgzfFrameReader(stream, fileName, leaveOpen, startOffset))
    {
    }

    /// <summary>Reads the <paramref name="ranges"/> of <paramref name="stream"/> (a file: it seeks), in the order given.</summary>
    public BgzfSegmentReader(Stream stream, IEnumerable<BgzfRange> ranges, string? fileName = null, bool leaveOpen = false)
        : this(new BgzfFrameReader(stream, fileName, leaveOpen))
    {
        ArgumentNullException.ThrowIfNull(ranges);
        if (!stream.CanSeek)
        {
            throw new NotSupportedException($"{fileName ?? "the input"} cannot seek (a pipe or a device): ranges need a file");
        }

        _ranges = ranges.GetEnumerator();
        _inRange = false; // the frame reader's constructor set up a whole-stream read
    }

    /// <summary>
    /// Reads the <paramref name="ranges"/> of the file <paramref name="frames"/> reads (it seeks), in the order given, e.g.
    /// after a header read by another reader; disposes it.
    /// </summary>
    public BgzfSegmentReader(BgzfFrameReader frames, IEnumerable<BgzfRange> ranges)
        : this(frames)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        if (!frames.CanSeek)
        {
            throw new NotSupportedException($"{frames.FileName ?? "the input"} cannot seek (a pipe or a device): ranges need a file");
        }

        _ranges = ranges.GetEnumerator();
        _inRange = false;
    }

    /// <summary>
    /// Reads on from where <paramref name="frames"/> is (e.g. after a header read by another reader; say whether the last
    /// block it read was the EOF marker); disposes it.
    /// </summary>
    public BgzfSegmentReader(BgzfFrameReader frames, bool lastFrameWasEofMarker = false)
    {
        LastFrameWasEofMarker = lastFrameWasEofMarker;
        ArgumentNullException.ThrowIfNull(frames);
        _frames = frames;
        _range = BgzfRange.ToEnd(new VirtualPosition(frames.CompressedOffset, 0));
        _inRange = true;
    }

    /// <summary>Name used in error messages.</summary>
    public string? FileName => _frames.FileName;

    /// <summary>Whether the input is a regular file: its reads are copies from the page cache, not waits on a pipe.</summary>
    public bool IsRegularFile => _frames.IsRegularFile;

    /// <summary>Compressed offset of the next block to read.</summary>
    public long CompressedOffset => _frames.CompressedOffset;

    /// <summary>Compressed bytes read from the input so far (the header's too, when the frame reader read it; ranges: only what was read of them).</summary>
    public long BytesRead => _frames.BytesRead;

    /// <summary>Whether the stream has ended cleanly after a block (not inside one).</summary>
    public bool ReachedEnd { get; private set; }

    /// <summary>Whether the last block read was the BGZF EOF marker.</summary>
    public bool LastFrameWasEofMarker { get; private set; }

    /// <summary>Whether a whole-input read ended without the EOF marker block (the input is probably cut).</summary>
    public bool MissingEofMarker => ReachedEnd && !LastFrameWasEofMarker && _ranges is null;

    /// <summary>
    /// Fills <paramref name="segment"/> with the next blocks: until their inflated or compressed bytes reach
    /// <paramref name="byteBudget"/>, the range ends, or the input does. Returns false when there is nothing more to read
    /// (the segment is then empty).
    /// </summary>
    public bool TryRead(BgzfSegment segment, int byteBudget)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentOutOfRangeException.ThrowIfLessThan(byteBudget, 1);
        segment.Clear();
        segment.UseSpareBuffers(_spareBuffers);
        while (!_ended)
        {
            if (!_inRange && !NextRange())
            {
                break;
            }

            segment.Sequence = _sequence;
            segment.StartsRange = _startsRange;
            segment.RangeIndex = Math.Max(0, _rangeIndex);
            int cut = 0;
            try
            {
                cut = Fill(segment, byteBudget);
            }
            catch (BamFormatException e)
            {
                segment.ReadError = e;
                _ended = true;
            }

            if (segment.StartsRange && segment.FrameCount > 0)
            {
                segment.SkipInflated = Math.Min(_range.Start.BlockOffset, segment.Frame(0).InflatedLength);
            }

            segment.InflatedLength = Math.Max(0, segment.TotalInflatedLength - segment.SkipInflated - cut);
            KeepUnparsed(segment);
            _lastCompressedLength = Math.Max(segment.FramesEnd + _unparsedLength, 1);
            if (segment.FrameCount == 0 && segment.ReadError is null)
            {
                continue; // the range was empty, or the input ended with the segment before
            }

            _startsRange = !_inRange;
            segment.EndsRange = !_inRange || _ended;
            _sequence++;
            return true;
        }

        segment.Clear();
        return false;
    }

    /// <summary>Moves to the next range (seeking to it); false when there is none.</summary>
    private bool NextRange()
    {
        if (_ranges is null || !_ranges.MoveNext())
        {
            _ended = true;
            return false;
        }

        _range = _ranges.Current;
        _rangeIndex++;
        if (_range.End <= _range.Start)
        {
            return NextRange();
        }

        if (_frames.CompressedOffset != _range.Start.CompressedOffset)
        {
            _frames.Seek(_range.Start.CompressedOffset);
            _unparsedLength = 0;
            ReachedEnd = false;
        }

        _inRange = true;
        _startsRange = true;
        return true;
    }

    /// <summary>
    /// Takes blocks into the segment, reading more of the input straight into its buffer when the next block is not all
    /// there, until the budget or the range's end. Returns the inflated bytes of its last block that are past the range.
    /// </summary>
    private int Fill(BgzfSegment segment, int byteBudget)
    {
        byte[] buffer = segment.Buffer(Math.Max(_lastCompressedLength + (_lastCompressedLength >> 3), Math.Max(MinimumBuffer, _unparsedLength)), 0);
        _unparsed.AsSpan(0, _unparsedLength).CopyTo(buffer);
        int filled = _unparsedLength;
        _unparsedLength = 0;
        _readEnd = filled;
        while (segment.TotalInflatedLength < byteBudget && segment.CompressedLength < byteBudget)
        {
            VirtualPosition end = _range.End;
            long next = _frames.CompressedOffset;
            if (end != BgzfRange.EndOfFile && (next > end.CompressedOffset || next == end.CompressedOffset && end.BlockOffset == 0))
            {
                _inRange = false;
                break;
            }

            ReadOnlySpan<byte> unparsed = buffer.AsSpan(segment.FramesEnd, filled - segment.FramesEnd);
            if (_frames.TryTakeFrame(unparsed, out BgzfFrame frame, out int missing))
            {
                segment.AddFrame(frame);
                LastFrameWasEofMarker = frame.IsEofMarker;
                _frameBytesTaken += frame.Length;
                _inflatedBytesTaken += frame.InflatedLength;
                if (end != BgzfRange.EndOfFile && frame.CompressedOffset == end.CompressedOffset)
                {
                    _inRange = false;
                    return Math.Max(0, frame.InflatedLength - end.BlockOffset);
                }

                continue;
            }

            if (missing == 0)
            {
                ReachedEnd = true;
                _inRange = false;
                if (_ranges is null)
                {
                    _ended = true;
                }

                break;
            }

            double ratio = _inflatedBytesTaken == 0 ? (double)InitialFrameLengthGuess / BgzfFrame.MaxInflatedSize : (double)_frameBytesTaken / _inflatedBytesTaken;
            long budgetLeft = Math.Min((long)((byteBudget - segment.TotalInflatedLength) * ratio), byteBudget - segment.CompressedLength);
            long wanted = Math.Max(Math.Max(BgzfFrame.MaxLength, budgetLeft - unparsed.Length), missing);
            if (end != BgzfRange.EndOfFile)
            {
                // Not past the range: at most to the end of its last block (at most 64 KiB), so a shard or a region's
                // chunk reads little beyond its bytes.
                long rangeLeft = end.CompressedOffset + (end.BlockOffset > 0 ? BgzfFrame.MaxLength : 0) - (next + unparsed.Length);
                wanted = Math.Max(missing, Math.Min(wanted, Math.Max(rangeLeft, 1)));
            }

            wanted = Math.Min(wanted, Array.MaxLength / 2);
            buffer = segment.Buffer((int)Math.Min((long)filled + wanted, Array.MaxLength), filled);
            filled += _frames.ReadAhead(buffer.AsSpan(filled, (int)Math.Min(wanted, buffer.Length - filled)), missing);
            _readEnd = filled;
        }

        // The budget was reached: say now whether this segment ends its range (the next block is past the range's end)
        // or the input (every byte read has been taken and the stream has ended), so that its last segment says so.
        VirtualPosition rangeEnd = _range.End;
        long after = _frames.CompressedOffset;
        if (_inRange && rangeEnd != BgzfRange.EndOfFile && (after > rangeEnd.CompressedOffset || after == rangeEnd.CompressedOffset && rangeEnd.BlockOffset == 0))
        {
            _inRange = false;
        }
        else if (_inRange && filled == segment.FramesEnd && PeekEnded(segment, ref buffer, ref filled))
        {
            ReachedEnd = true;
            _inRange = false;
            if (_ranges is null)
            {
                _ended = true;
            }
        }

        return 0;
    }

    /// <summary>
    /// Whether the input has ended, when every byte read so far is in the segment's blocks: reads on (one read; its bytes
    /// are the next segment's) to find out.
    /// </summary>
    private bool PeekEnded(BgzfSegment segment, ref byte[] buffer, ref int filled)
    {
        if (_frames.InputEnded)
        {
            return true;
        }

        buffer = segment.Buffer(filled + BgzfFrame.MaxLength, filled);
        filled += _frames.ReadAhead(buffer.AsSpan(filled, BgzfFrame.MaxLength), 1);
        _readEnd = filled;
        return _frames.InputEnded;
    }

    /// <summary>Keeps the bytes read past the segment's last block for the next segment.</summary>
    private void KeepUnparsed(BgzfSegment segment)
    {
        int length = Math.Max(0, _readEnd - segment.FramesEnd);
        if (length > 0)
        {
            if (length > _unparsed.Length)
            {
                _unparsed = new byte[Math.Max(length, BgzfFrame.MaxLength)];
            }

            segment.Buffer(0, 0).AsSpan(segment.FramesEnd, length).CopyTo(_unparsed);
        }

        _unparsedLength = length;
        _readEnd = 0;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ranges?.Dispose();
        _frames.Dispose();
    }
}
