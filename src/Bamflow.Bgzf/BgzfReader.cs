namespace Bamflow.Bgzf;

/// <summary>
/// Reads the inflated contents of a BGZF file sequentially, one block at a time on the calling thread.
/// The parallel engine uses <see cref="BgzfFrameReader"/> and <see cref="BgzfBlockDecoder"/> directly instead.
/// </summary>
public sealed class BgzfReader : IDisposable
{
    private readonly BgzfFrameReader _frames;
    private readonly IBgzfInflater _inflater;
    private readonly bool _ownsInflater;
    private readonly byte[] _frameBuffer = new byte[BgzfFrame.MaxLength];
    private readonly byte[] _block = new byte[BgzfFrame.MaxInflatedSize];
    private long _blockCompressedOffset;
    private int _blockLength;
    private int _blockOffset;
    private bool _atEnd;
    private bool _lastFrameWasEofMarker;
    private bool _detached;

    /// <summary>Reads the BGZF data in <paramref name="stream"/>.</summary>
    /// <param name="stream">The compressed input, positioned at a block boundary (compressed offset 0 unless stated).</param>
    /// <param name="fileName">Name used in error messages ("-" for standard input).</param>
    /// <param name="inflater">The inflater to use; by default one of <see cref="BgzfInflaterKind.Auto"/>, owned by this reader.</param>
    /// <param name="leaveOpen">Whether disposing this reader leaves the stream open.</param>
    public BgzfReader(Stream stream, string? fileName = null, IBgzfInflater? inflater = null, bool leaveOpen = false)
    {
        _frames = new BgzfFrameReader(stream, fileName, leaveOpen);
        _ownsInflater = inflater is null;
        _inflater = inflater ?? BgzfInflater.Create();
    }

    /// <summary>Name used in error messages.</summary>
    public string? FileName => _frames.FileName;

    /// <summary>Told of every block as it is read (empty ones included), before its bytes are handed out.</summary>
    public Action<BgzfFrame>? FrameRead { get; set; }

    /// <summary>Bytes of compressed input consumed so far.</summary>
    public long CompressedBytesRead => _frames.CompressedOffset;

    /// <summary>The virtual position of the next byte <see cref="Read"/> returns.</summary>
    public VirtualPosition Position => _blockOffset < _blockLength
        ? new VirtualPosition(_blockCompressedOffset, _blockOffset)
        : new VirtualPosition(_frames.CompressedOffset, 0);

    /// <summary>
    /// True once the end of the input was reached and its last block was not the EOF marker block: the file is
    /// probably truncated (htslib warns about this and carries on).
    /// </summary>
    public bool MissingEofMarker => _atEnd && !_lastFrameWasEofMarker;

    /// <summary>Whether the end of the input has been reached.</summary>
    public bool IsAtEnd => _atEnd && _blockOffset >= _blockLength;

    /// <summary>Reads up to <paramref name="destination"/>.Length inflated bytes; returns 0 only at the end of the input.</summary>
    /// <exception cref="BgzfFormatException">A block is malformed.</exception>
    public int Read(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            if (_blockOffset >= _blockLength && !LoadNextBlock())
            {
                break;
            }

            int n = Math.Min(destination.Length - total, _blockLength - _blockOffset);
            _block.AsSpan(_blockOffset, n).CopyTo(destination[total..]);
            _blockOffset += n;
            total += n;
        }

        return total;
    }

    /// <summary>
    /// Hands over the rest of the input so another reader can continue where this one stopped: the inflated bytes
    /// left in the current block (with their position) and the frame reader positioned at the next block.
    /// This reader must not be used afterwards (disposing it then leaves the stream to the new owner).
    /// </summary>
    internal BgzfRemainder Detach()
    {
        ObjectDisposedException.ThrowIf(_detached, this);
        _detached = true;
        byte[] buffered = _block.AsSpan(_blockOffset, Math.Max(0, _blockLength - _blockOffset)).ToArray();
        var position = new VirtualPosition(_blockCompressedOffset, Math.Min(_blockOffset, ushort.MaxValue));
        return new BgzfRemainder(buffered, position, _frames, _atEnd, _lastFrameWasEofMarker);
    }

    /// <summary>Loads blocks until one has data; returns false at the end of the input.</summary>
    private bool LoadNextBlock()
    {
        while (!_atEnd)
        {
            if (!_frames.TryReadFrame(_frameBuffer, out BgzfFrame frame))
            {
                _atEnd = true;
                _blockOffset = _blockLength = 0;
                return false;
            }

            _lastFrameWasEofMarker = frame.IsEofMarker;
            FrameRead?.Invoke(frame);
            _blockCompressedOffset = frame.CompressedOffset;
            _blockLength = BgzfBlockDecoder.Decode(_inflater, _frameBuffer, frame, _block, FileName);
            _blockOffset = 0;
            if (_blockLength > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_detached)
        {
            _frames.Dispose();
        }

        if (_ownsInflater)
        {
            _inflater.Dispose();
        }
    }
}

/// <summary>What a <see cref="BgzfReader"/> hands over when detached.</summary>
/// <param name="Buffered">Inflated bytes not yet read from the current block.</param>
/// <param name="BufferedPosition">The virtual position of the first buffered byte.</param>
/// <param name="Frames">The frame reader, at the block after the current one; the new owner disposes it.</param>
/// <param name="AtEnd">Whether the input had already ended.</param>
/// <param name="LastFrameWasEofMarker">Whether the last block read was the EOF marker.</param>
internal sealed record BgzfRemainder(byte[] Buffered, VirtualPosition BufferedPosition, BgzfFrameReader Frames, bool AtEnd, bool LastFrameWasEofMarker);
