namespace Bamflow.Bgzf;

/// <summary>
/// Inflates one BGZF block and verifies it: a pure function of (frame bytes, destination), safe to call from
/// many threads at once with one inflater each.
/// </summary>
public static class BgzfBlockDecoder
{
    /// <summary>
    /// Inflates the block in <paramref name="frameBytes"/> (the whole block, header to footer) into
    /// <paramref name="destination"/> and checks ISIZE and CRC32. Returns the inflated length.
    /// </summary>
    /// <exception cref="BgzfFormatException">The DEFLATE data is corrupt, or ISIZE or CRC32 do not match.</exception>
    public static int Decode(IBgzfInflater inflater, ReadOnlySpan<byte> frameBytes, in BgzfFrame frame, Span<byte> destination, string? fileName = null)
    {
        ArgumentNullException.ThrowIfNull(inflater);
        ReadOnlySpan<byte> deflated = frameBytes.Slice(frame.DataOffset, frame.DataLength);
        int written = inflater.Inflate(deflated, destination[..Math.Min(destination.Length, BgzfFrame.MaxInflatedSize)]);
        if (written < 0)
        {
            throw BgzfFormatException.InflateFailed(fileName, frame.CompressedOffset, $"invalid DEFLATE data ({inflater.Name})");
        }

        if (written != frame.InflatedLength)
        {
            throw BgzfFormatException.InflatedSizeMismatch(fileName, frame.CompressedOffset, frame.InflatedLength, written);
        }

        uint crc = inflater.Crc32(destination[..written]);
        if (crc != frame.Crc32)
        {
            throw BgzfFormatException.CrcMismatch(fileName, frame.CompressedOffset, frame.Crc32, crc);
        }

        return written;
    }
}
