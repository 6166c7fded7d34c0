using System.Buffers.Binary;

namespace Bamflow.Bgzf;

/// <summary>
/// Reads whole compressed BGZF blocks from a stream, one after another, validating each block's header
/// (gzip magic, FEXTRA, the BC subfield, BSIZE) and footer (ISIZE). It does I/O only: inflating a frame is
/// a pure function of its bytes (<see cref="BgzfBlockDecoder"/>), so frames can be inflated in parallel.
/// </summary>
public sealed class BgzfFrameReader : IDisposable
{
    private const byte Id1 = 0x1f, Id2 = 0x8b, CmDeflate = 8, FlagExtra = 0x04;
    private const byte SubfieldId1 = (byte)'B', SubfieldId2 = (byte)'C';

    private readonly Stream _stream;
    private readonly bool _leaveOpen;

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
    }

    /// <summary>Name used in error messages.</summary>
    public string? FileName { get; }

    /// <summary>Compressed offset of the next frame to read (after the last one, once at the end).</summary>
    public long CompressedOffset { get; private set; }

    /// <summary>
    /// Reads the next block into <paramref name="destination"/> (at least <see cref="BgzfFrame.MaxLength"/> bytes).
    /// Returns false when the stream ends cleanly between blocks.
    /// </summary>
    /// <exception cref="BgzfFormatException">The block is malformed or the stream ends inside it.</exception>
    public bool TryReadFrame(Span<byte> destination, out BgzfFrame frame)
    {
        if (destination.Length < BgzfFrame.MaxLength)
        {
            throw new ArgumentException($"the destination must hold {BgzfFrame.MaxLength} bytes", nameof(destination));
        }

        long offset = CompressedOffset;
        int got = ReadAtMost(destination[..BgzfFrame.FixedHeaderLength]);
        if (got == 0)
        {
            frame = default;
            return false;
        }

        // SAMv1 §4.1: ID1=31 ID2=139 CM=8 FLG=4 MTIME(4) XFL OS XLEN(2)
        if (got >= 2 && (destination[0] != Id1 || destination[1] != Id2))
        {
            throw BgzfFormatException.BadMagic(FileName, offset, destination[0], destination[1]);
        }

        if (got < BgzfFrame.FixedHeaderLength)
        {
            throw BgzfFormatException.Truncated(FileName, offset, BgzfFrame.FixedHeaderLength, got);
        }

        if (destination[2] != CmDeflate)
        {
            throw BgzfFormatException.NotBgzf(FileName, offset, $"compression method {destination[2]} is not DEFLATE");
        }

        if ((destination[3] & FlagExtra) == 0)
        {
            throw BgzfFormatException.NotBgzf(FileName, offset, "no FEXTRA field");
        }

        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(destination[10..]);
        int headerLength = BgzfFrame.FixedHeaderLength + extraLength;
        if (headerLength + BgzfFrame.FooterLength > BgzfFrame.MaxLength)
        {
            // A block is at most 64 KiB (BSIZE is a uint16): this header could not fit one, nor the caller's buffer.
            throw BgzfFormatException.NotBgzf(FileName, offset, $"XLEN {extraLength} leaves no room for the block in 64 KiB");
        }

        got = ReadAtMost(destination.Slice(BgzfFrame.FixedHeaderLength, extraLength));
        if (got < extraLength)
        {
            throw BgzfFormatException.Truncated(FileName, offset, headerLength, BgzfFrame.FixedHeaderLength + got);
        }

        int blockLength = FindBlockLength(destination.Slice(BgzfFrame.FixedHeaderLength, extraLength));
        if (blockLength < 0)
        {
            throw BgzfFormatException.NotBgzf(FileName, offset, "no BC subfield in the gzip extra field");
        }

        int minimum = headerLength + BgzfFrame.FooterLength;
        if (blockLength < minimum)
        {
            throw BgzfFormatException.BlockSizeOutOfRange(FileName, offset, blockLength, minimum);
        }

        got = ReadAtMost(destination[headerLength..blockLength]);
        if (got < blockLength - headerLength)
        {
            throw BgzfFormatException.Truncated(FileName, offset, blockLength, headerLength + got);
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(destination[(blockLength - 8)..]);
        uint inflatedLength = BinaryPrimitives.ReadUInt32LittleEndian(destination[(blockLength - 4)..]);
        if (inflatedLength > BgzfFrame.MaxInflatedSize)
        {
            throw BgzfFormatException.InflatedSizeOutOfRange(FileName, offset, inflatedLength);
        }

        bool isEof = destination[..blockLength].SequenceEqual(BgzfFrame.EofMarker);
        frame = new BgzfFrame(offset, blockLength, headerLength, blockLength - headerLength - BgzfFrame.FooterLength, crc, (int)inflatedLength, isEof);
        CompressedOffset = offset + blockLength;
        return true;
    }

    /// <summary>Finds the BC subfield (SI1='B', SI2='C', SLEN=2) among the extra subfields and returns BSIZE + 1, or -1.</summary>
    private static int FindBlockLength(ReadOnlySpan<byte> extra)
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
