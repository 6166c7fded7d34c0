namespace Bamflow.Bgzf;

/// <summary>
/// A run of whole BGZF blocks read by a <see cref="BgzfSegmentReader"/>: their compressed bytes, in a buffer the segment
/// owns and keeps for its next use (so a fixed set of segments is a fixed amount of memory), and where each block is.
/// Inflating it is a pure function (<see cref="InflateFrame"/>), so segments inflate on any core, in any order. A segment
/// may cover part of its first and last blocks only (a range that starts or ends inside a block):
/// <see cref="SkipInflated"/> and <see cref="InflatedLength"/> say which of the inflated bytes are the segment's.
/// </summary>
public sealed class BgzfSegment
{
    private BgzfFrame[] _frames = new BgzfFrame[64];
    private int[] _frameStarts = new int[64];   // where each block's bytes are in the buffer
    private int[] _inflatedStarts = new int[65]; // where each block's inflated bytes start, from the first block's first byte
    private byte[] _buffer = [];
    private int _framesEnd;
    private System.Collections.Concurrent.ConcurrentBag<byte[]>? _spareBuffers;   // the reader's, when it lends buffers

    /// <summary>Number of blocks.</summary>
    public int FrameCount { get; private set; }

    /// <summary>Zero-based number of the segment in its reader's output.</summary>
    public long Sequence { get; internal set; }

    /// <summary>Whether this segment starts a range (its first byte is not the continuation of the segment before).</summary>
    public bool StartsRange { get; internal set; }

    /// <summary>Which of the reader's ranges the segment is in (0-based, in the order given; 0 for a whole-stream read).</summary>
    public int RangeIndex { get; internal set; }

    /// <summary>Whether this is the last segment of its range (for a whole-file read: of the file).</summary>
    public bool EndsRange { get; internal set; }

    /// <summary>
    /// The malformed input the reader met right after this segment's blocks (a bad header, a cut block), or null: it comes
    /// after the blocks, in file order, and the reader stops there.
    /// </summary>
    public Exception? ReadError { get; internal set; }

    /// <summary>Inflated bytes at the start of the first block that are not the segment's (a range starting inside a block).</summary>
    public int SkipInflated { get; internal set; }

    /// <summary>The segment's inflated bytes: the blocks' ISIZEs, less <see cref="SkipInflated"/> and any cut at the range's end.</summary>
    public int InflatedLength { get; internal set; }

    /// <summary>Sum of the blocks' ISIZEs: the room inflating every block needs.</summary>
    public int TotalInflatedLength => _inflatedStarts[FrameCount];

    /// <summary>Total compressed length of the blocks.</summary>
    public int CompressedLength => _framesEnd;

    /// <summary>Block <paramref name="index"/>.</summary>
    public BgzfFrame Frame(int index) => _frames[index];

    /// <summary>The whole compressed block <paramref name="index"/>, header to footer.</summary>
    public ReadOnlySpan<byte> FrameBytes(int index) => _buffer.AsSpan(_frameStarts[index], _frames[index].Length);

    /// <summary>Where block <paramref name="index"/>'s inflated bytes start, counted from the first block's first inflated byte.</summary>
    public int InflatedStart(int index) => _inflatedStarts[index];

    /// <summary>
    /// Inflates block <paramref name="index"/> into <paramref name="destination"/> (at least its ISIZE bytes) and checks it:
    /// a pure function, safe on many threads at once with one inflater each. Returns the inflated length.
    /// </summary>
    /// <exception cref="BgzfFormatException">The block's data is corrupt (its compressed offset is in the exception).</exception>
    public int InflateFrame(int index, IBgzfInflater inflater, Span<byte> destination, string? fileName = null) =>
        BgzfBlockDecoder.Decode(inflater, FrameBytes(index), _frames[index], destination, fileName);

    /// <summary>
    /// The virtual position of the inflated byte at <paramref name="offset"/>, counted from the segment's first byte (after
    /// <see cref="SkipInflated"/>); <paramref name="frameHint"/> is a block at or before it (walks forward from there, for
    /// a caller that asks in increasing order) and is moved to the byte's block.
    /// </summary>
    public VirtualPosition PositionAt(int offset, ref int frameHint)
    {
        int absolute = offset + SkipInflated;
        int frame = Math.Clamp(frameHint, 0, Math.Max(0, FrameCount - 1));
        if (_inflatedStarts[frame] > absolute)
        {
            frame = 0;
        }

        // An empty block shares its start with the next: the byte is the next one's.
        while (frame + 1 < FrameCount && absolute >= _inflatedStarts[frame + 1])
        {
            frame++;
        }

        frameHint = frame;
        return new VirtualPosition(_frames[frame].CompressedOffset, Math.Min(absolute - _inflatedStarts[frame], ushort.MaxValue));
    }

    /// <summary>Empties the segment for reuse (its buffer stays).</summary>
    internal void Clear()
    {
        FrameCount = 0;
        _framesEnd = 0;
        _inflatedStarts[0] = 0;
        StartsRange = EndsRange = false;
        ReadError = null;
        SkipInflated = 0;
        InflatedLength = 0;
    }

    /// <summary>
    /// Gives the compressed bytes' buffer back to the reader once the blocks are inflated (the block list stays, for
    /// <see cref="PositionAt"/>; <see cref="FrameBytes"/> and <see cref="InflateFrame"/> may not be used any more). So only
    /// the segments being read or inflated hold compressed bytes, not every segment in flight.
    /// </summary>
    public void ReleaseCompressed()
    {
        if (_spareBuffers is not null && _buffer.Length > 0)
        {
            _spareBuffers.Add(_buffer);
            _buffer = [];
        }
    }

    /// <summary>Lends this segment buffers from <paramref name="spares"/> (the reader's) and takes them back on <see cref="ReleaseCompressed"/>.</summary>
    internal void UseSpareBuffers(System.Collections.Concurrent.ConcurrentBag<byte[]> spares) => _spareBuffers = spares;

    /// <summary>The buffer, at least <paramref name="capacity"/> bytes, keeping the first <paramref name="keep"/>.</summary>
    internal byte[] Buffer(int capacity, int keep)
    {
        if (_buffer.Length == 0 && _spareBuffers is not null && _spareBuffers.TryTake(out byte[]? spare))
        {
            _buffer = spare;
        }

        if (_buffer.Length < capacity)
        {
            byte[] grown = GC.AllocateUninitializedArray<byte>((int)Math.Min(Math.Max((long)_buffer.Length * 2, capacity), Array.MaxLength));
            _buffer.AsSpan(0, keep).CopyTo(grown);
            _buffer = grown;
        }

        return _buffer;
    }

    /// <summary>Gives back a buffer grown far past what segments usually need (<paramref name="usual"/> bytes), so one odd segment does not keep its memory.</summary>
    public void TrimBuffer(int usual)
    {
        if (_buffer.Length > 2L * usual + BgzfFrame.MaxLength)
        {
            _buffer = [];
        }
    }

    /// <summary>Adds the block whose bytes are at the end of those added so far.</summary>
    internal void AddFrame(in BgzfFrame frame)
    {
        if (FrameCount == _frames.Length)
        {
            Array.Resize(ref _frames, FrameCount * 2);
            Array.Resize(ref _frameStarts, FrameCount * 2);
            Array.Resize(ref _inflatedStarts, (FrameCount * 2) + 1);
        }

        _frames[FrameCount] = frame;
        _frameStarts[FrameCount] = _framesEnd;
        _framesEnd += frame.Length;
        _inflatedStarts[FrameCount + 1] = _inflatedStarts[FrameCount] + frame.InflatedLength;
        FrameCount++;
    }

    /// <summary>Bytes read into the buffer after the blocks (the start of the next segment's).</summary>
    internal int FramesEnd => _framesEnd;
}
