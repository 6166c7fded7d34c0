using System.Buffers.Binary;

namespace Bamflow.Bgzf;

/// <summary>
/// Reads whole compressed BGZF blocks from a stream, one after another, validating each block's header
/// (gzip magic, FEXTRA, the BC subfield, BSIZE) and footer (ISIZE). It does I/O only: inflating a frame is
/// a pure function of its bytes (<see cref="BgzfBlockDecoder"/>), so frames can be inflated in parallel.
/// Two ways to read: <see cref="TryReadFrame"/> reads one block into a buffer (three reads: fixed header, extra field,
/// the rest); or the caller reads large runs of the input into its own buffer with <see cref="ReadAhead"/> and finds the
/// blocks in place with <see cref="TryTakeFrame"/> (one copy from the stream, fewer calls). Both validate alike.
/// </summary>
public sealed class BgzfFrameReader : IDisposable
{
    private const byte Id1 = 0x1f, Id2 = 0x8b, CmDeflate = 8, FlagExtra = 0x04;
    private const byte SubfieldId1 = (byte)'B', SubfieldId2 = (byte)'C';

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly long _streamDelta;   // the stream's position minus the compressed offset (a stream may start inside a file)
    private int _readAhead;
    private bool _streamEnded;

    /// <summary>Reads frames from <paramref name="stream"/>, starting at its current position (taken as offset 0 unless given).</summary>
    /// <param name="stream">The compressed input.</param>
    /// <param name="fileName">Name used in error messages ("-" for standard input).</param>
    /// <param name="leaveOpen">Whether disposing this reader leaves the stream open.</param>
    /// <param name="startOffset">The compressed offset of the stream's current position.</param>
    public BgzfFrameReader(Stream stream, string? fileName = null, bool leaveOpen = false, long startOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        FileName = fileName;
        CompressedOffset = startOffset;
        _streamDelta = stream.CanSeek ? stream.Position - startOffset : 0;
    }

    /// <summary>Name used in error messages.</summary>
    public string? FileName { get; }

    /// <summary>
    /// Whether the input is a regular file (a <see cref="FileStream"/> that can seek): its reads are copies out of the
    /// page cache, not waits on a pipe or a device.
    /// </summary>
    public bool IsRegularFile => _stream is FileStream { CanSeek: true };

    /// <summary>Bytes read from the stream so far (a read of ranges reads less than the offsets it reaches).</summary>
    public long BytesRead { get; private set; }

    /// <summary>Compressed offset of the next frame to read or take (after the last one, once at the end).</summary>
    public long CompressedOffset { get; private set; }

    /// <summary>
    /// Reads the next block into <paramref name="destination"/> (at least <see cref="BgzfFrame.MaxLength"/> bytes).
    /// Returns false when the stream ends cleanly between blocks.
    /// </summary>
    /// <exception cref="BgzfFormatException">The block is malformed or the stream ends inside it.</exception>
    /// <exception cref="InvalidOperationException">Bytes were read ahead with <see cref="ReadAhead"/> and not all taken.</exception>
    public bool TryReadFrame(Span<byte> destination, out BgzfFrame frame)
    {
        if (destination.Length < BgzfFrame.MaxLength)
        {
            throw new ArgumentException($"the destination must hold {BgzfFrame.MaxLength} bytes", nameof(destination));
        }

        if (_readAhead != 0)
        {
            throw new InvalidOperationException("bytes read ahead are still to be taken with TryTakeFrame");
        }

        long offset = CompressedOffset;
        int got = ReadAtMost(destination[..BgzfFrame.FixedHeaderLength]);
        if (got == 0)
        {
            frame = default;
            return false;
        }

        if (got < BgzfFrame.FixedHeaderLength)
        {
            CheckMagic(destination[..got], offset);
            throw BgzfFormatException.Truncated(FileName, offset, BgzfFrame.FixedHeaderLength, got);
        }

        int headerLength = CheckFixedHeader(destination, offset);
        got = ReadAtMost(destination[BgzfFrame.FixedHeaderLength..headerLength]);
        if (got < headerLength - BgzfFrame.FixedHeaderLength)
        {
            throw BgzfFormatException.Truncated(FileName, offset, headerLength, BgzfFrame.FixedHeaderLength + got);
        }

        int blockLength = CheckExtraField(destination, headerLength, offset);
        got = ReadAtMost(destination[headerLength..blockLength]);
        if (got < blockLength - headerLength)
        {
            throw BgzfFormatException.Truncated(FileName, offset, blockLength, headerLength + got);
        }

        frame = CheckFooter(destination, headerLength, blockLength, offset);
        CompressedOffset = offset + blockLength;
        return true;
    }

    /// <summary>
    /// Bulk reading, the other way to use this reader: reads the input that follows the bytes read so far straight into
    /// <paramref name="destination"/> (one copy, from the stream; nothing is parsed), at least <paramref name="minimumBytes"/>
    /// unless the stream ends first and at most <paramref name="destination"/>.Length. The caller keeps these bytes after
    /// the ones it has read ahead and not taken yet, and finds the frames in them with <see cref="TryTakeFrame"/>.
    /// Only <see cref="Stream.Read(Span{byte})"/> is used, so the stream may be a pipe.
    /// </summary>
    /// <returns>The number of bytes read; fewer than <paramref name="minimumBytes"/> means the stream has ended.</returns>
    public int ReadAhead(Span<byte> destination, int minimumBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumBytes, 1);
        int got = _stream.ReadAtLeast(destination, minimumBytes, throwOnEndOfStream: false);
        BytesRead += got;
        _readAhead += got;
        _streamEnded |= got < minimumBytes;
        return got;
    }

    /// <summary>
    /// Takes the block at <see cref="CompressedOffset"/> from <paramref name="readAhead"/>: every byte read with
    /// <see cref="ReadAhead"/> and not taken yet, in order. Returns true with the block (its bytes are
    /// <c>readAhead[..frame.Length]</c>; <see cref="CompressedOffset"/> moves past it); false with
    /// <paramref name="missing"/> &gt; 0 when the block is not all there yet and the stream has not ended (read at least that
    /// many more bytes ahead and call again); false with <paramref name="missing"/> = 0 when the stream ended cleanly between
    /// blocks. The validation and the errors, offsets included, are those of <see cref="TryReadFrame"/> on the same input.
    /// </summary>
    /// <exception cref="BgzfFormatException">The block is malformed or the stream ends inside it.</exception>
    public bool TryTakeFrame(ReadOnlySpan<byte> readAhead, out BgzfFrame frame, out int missing)
    {
        if (readAhead.Length != _readAhead)
        {
            throw new ArgumentException($"expected the {_readAhead} bytes read ahead and not taken yet, got {readAhead.Length}", nameof(readAhead));
        }

        frame = default;
        long offset = CompressedOffset;
        int have = readAhead.Length;
        if (have < BgzfFrame.FixedHeaderLength)
        {
            CheckMagic(readAhead, offset);
            return NeedMore(have, BgzfFrame.FixedHeaderLength, offset, have == 0, out missing);
        }

        int headerLength = CheckFixedHeader(readAhead, offset);
        if (have < headerLength)
        {
            return NeedMore(have, headerLength, offset, false, out missing);
        }

        int blockLength = CheckExtraField(readAhead, headerLength, offset);
        if (have < blockLength)
        {
            return NeedMore(have, blockLength, offset, false, out missing);
        }

        frame = CheckFooter(readAhead, headerLength, blockLength, offset);
        CompressedOffset = offset + blockLength;
        _readAhead -= blockLength;
        missing = 0;
        return true;
    }

    /// <summary>Whether the stream has ended and every byte read ahead has been taken as a frame.</summary>
    internal bool InputEnded => _streamEnded && _readAhead == 0;

    /// <summary>Whether <see cref="Seek"/> can move this reader (its stream can seek).</summary>
    public bool CanSeek => _stream.CanSeek;

    /// <summary>
    /// Moves to the block at <paramref name="compressedOffset"/> (a block start, as an index gives it): the bytes read
    /// ahead and not taken are dropped, and the next frame read or taken is the one there.
    /// </summary>
    /// <exception cref="NotSupportedException">The stream cannot seek (a pipe).</exception>
    public void Seek(long compressedOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(compressedOffset);
        if (!_stream.CanSeek)
        {
            throw new NotSupportedException($"{FileName ?? "the input"} cannot seek (a pipe or a device): ranges need a file");
        }

        _stream.Position = compressedOffset + _streamDelta;
        CompressedOffset = compressedOffset;
        _readAhead = 0;
        _streamEnded = false;
    }

    /// <summary>
    /// <paramref name="have"/> of the <paramref name="needed"/> bytes are there: asks for the rest, or (the stream having
    /// ended) reports a clean end when <paramref name="cleanEnd"/>, else throws what <see cref="TryReadFrame"/> throws there.
    /// </summary>
    private bool NeedMore(int have, int needed, long offset, bool cleanEnd, out int missing)
    {
        if (!_streamEnded)
        {
            missing = needed - have;
            return false;
        }

        if (cleanEnd)
        {
            missing = 0;
            return false;
        }

        throw BgzfFormatException.Truncated(FileName, offset, needed, have);
    }

    /// <summary>The gzip magic, once two bytes are there.</summary>
    private void CheckMagic(ReadOnlySpan<byte> block, long offset)
    {
        if (block.Length >= 2 && (block[0] != Id1 || block[1] != Id2))
        {
            throw BgzfFormatException.BadMagic(FileName, offset, block[0], block[1]);
        }
    }

    /// <summary>Validates the 12-byte fixed header and returns the header's length (12 + XLEN).</summary>
    private int CheckFixedHeader(ReadOnlySpan<byte> block, long offset)
    {
        // SAMv1 §4.1: ID1=31 ID2=139 CM=8 FLG=4 MTIME(4) XFL OS XLEN(2)
        CheckMagic(block, offset);
        if (block[2] != CmDeflate)
        {
            throw BgzfFormatException.NotBgzf(FileName, offset, $"compression method {block[2]} is not DEFLATE");
        }

        if ((block[3] & FlagExtra) == 0)
        {
            throw BgzfFormatException.NotBgzf(FileName, offset, "no FEXTRA field");
        }

        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(block[10..]);
        int headerLength = BgzfFrame.FixedHeaderLength + extraLength;
        if (headerLength + BgzfFrame.FooterLength > BgzfFrame.MaxLength)
        {
            // A block is at most 64 KiB (BSIZE is a uint16): this header could not fit one, nor the caller's buffer.
            throw BgzfFormatException.NotBgzf(FileName, offset, $"XLEN {extraLength} leaves no room for the block in 64 KiB");
        }

        return headerLength;
    }

    /// <summary>Finds BSIZE in the extra field (<c>block[12..headerLength]</c>) and returns the block's length (BSIZE + 1).</summary>
    private int CheckExtraField(ReadOnlySpan<byte> block, int headerLength, long offset)
    {
        int blockLength = FindBlockLength(block[BgzfFrame.FixedHeaderLength..headerLength]);
        if (blockLength < 0)
        {
            throw BgzfFormatException.NotBgzf(FileName, offset, "no BC subfield in the gzip extra field");
        }

        int minimum = headerLength + BgzfFrame.FooterLength;
        if (blockLength < minimum)
        {
            throw BgzfFormatException.BlockSizeOutOfRange(FileName, offset, blockLength, minimum);
        }

        return blockLength;
    }

    /// <summary>Validates the footer of the whole block (<c>block[..blockLength]</c>) and describes it.</summary>
    private BgzfFrame CheckFooter(ReadOnlySpan<byte> block, int headerLength, int blockLength, long offset)
    {
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(block[(blockLength - 8)..]);
        uint inflatedLength = BinaryPrimitives.ReadUInt32LittleEndian(block[(blockLength - 4)..]);
        if (inflatedLength > BgzfFrame.MaxInflatedSize)
        {
            throw BgzfFormatException.InflatedSizeOutOfRange(FileName, offset, inflatedLength);
        }

        bool isEof = block[..blockLength].SequenceEqual(BgzfFrame.EofMarker);
        return new BgzfFrame(offset, blockLength, headerLength, blockLength - headerLength - BgzfFrame.FooterLength, crc, (int)inflatedLength, isEof);
    }

    /// <summary>Finds the BC subfield (SI1='B', SI2='C', SLEN=2) among the extra subfields and returns BSIZE + 1, or -1.</summary>
    internal static int FindBlockLength(ReadOnlySpan<byte> extra)
    {
        while (extra.Length >= 4)
        {
            int subfieldLength = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (extra[0] == SubfieldId1 && extra[1] == SubfieldId2 && subfieldLength == 2 && extra.Length >= 6)
            {
                return BinaryPrimitives.ReadUInt16LittleEndian(extra[4..]) + 1;
            }

            if (4 + subfieldLength > extra.Length)
            {
                break;
            }

            extra = extra[(4 + subfieldLength)..];
        }

        return -1;
    }

    private int ReadAtMost(Span<byte> buffer)
    {
        int total = _stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        BytesRead += total;
        CompressedOffset += total;
        return total;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }
}
