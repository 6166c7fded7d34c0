using System.Buffers.Binary;

namespace Bamflow.Bgzf;

/// <summary>
/// Finds a BGZF block that starts at or after an arbitrary byte of a file (the boundary of a shard), without reading
/// the file from its start: a candidate is a gzip header with a <c>BC</c> subfield whose ISIZE fits a block, proven by
/// the chain of blocks after it (each the same, the last ending exactly at the end of the file), as Hadoop-BAM's and
/// Disq's splitters find blocks. A false start inside compressed data would need several headers in a row at the
/// offsets its own sizes name.
/// </summary>
public static class BgzfBlockSearch
{
    /// <summary>The blocks after a candidate that must be valid too (fewer where the file ends first).</summary>
    public const int ChainLength = 3;

    private const int HeaderProbeLength = BgzfFrame.FixedHeaderLength + 6; // SAMv1 §4.1: the fixed header and the BC subfield
    private const int Step = 8 << 10;

    /// <summary>
    /// The compressed offset of the first proven block start at or after <paramref name="compressedOffset"/>, or the
    /// file's length when no block starts between there and the end. <paramref name="file"/> must seek; its position is
    /// left undefined. <paramref name="bytesRead"/> counts what the search read.
    /// </summary>
    /// <exception cref="BgzfFormatException">No block starts in the 64 KiB after <paramref name="compressedOffset"/> although the file goes on: not BGZF there.</exception>
    public static long FindBlockStart(Stream file, long compressedOffset, string? fileName, ref long bytesRead)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(compressedOffset);
        long length = file.Length;
        if (compressedOffset >= length)
        {
            return length;
        }

        // Any 64 KiB of a BGZF file hold a block start (a block is at most 64 KiB): the window grows by a few KiB at a
        // time up to one block and a header, so a search usually reads a fraction of a block.
        byte[] window = new byte[BgzfFrame.MaxLength + HeaderProbeLength];
        byte[] probe = new byte[HeaderProbeLength + 256];
        int have = 0, scanned = 0;
        bool ended = false;
        while (scanned < BgzfFrame.MaxLength)
        {
            int read = ReadAt(file, compressedOffset + have, window.AsSpan(have, Math.Min(Step, window.Length - have)), ref bytesRead);
            have += read;
            ended = read == 0 || compressedOffset + have >= length;
            int last = Math.Min(BgzfFrame.MaxLength, ended ? have : have - HeaderProbeLength);
            for (; scanned < last; scanned++)
            {
                if (window[scanned] == 0x1f && IsChain(file, compressedOffset + scanned, length, window.AsSpan(scanned, have - scanned), probe, ref bytesRead))
                {
                    return compressedOffset + scanned;
                }
            }

            if (ended)
            {
                break;
            }
        }

        if (ended)
        {
            return length; // the rest of the file is the tail of one block
        }

        throw BgzfFormatException.NotBgzf(fileName, compressedOffset, "no BGZF block starts in the 64 KiB after this offset (the file is not BGZF there, or is corrupt)");
    }

    /// <summary>Whether a block starts at <paramref name="offset"/> and the <see cref="ChainLength"/> after it (or up to the end) do too.</summary>
    private static bool IsChain(Stream file, long offset, long length, ReadOnlySpan<byte> known, byte[] probe, ref long bytesRead)
    {
        Span<byte> footer = stackalloc byte[4];
        for (int link = 0; link <= ChainLength; link++)
        {
            if (offset == length)
            {
                return link > 0; // the last block ended exactly at the end of the file
            }

            ReadOnlySpan<byte> header = known.Length >= probe.Length ? known : probe.AsSpan(0, ReadAt(file, offset, probe, ref bytesRead));
            int blockLength = BlockLength(header);
            if (blockLength < 0 || offset + blockLength > length)
            {
                return false;
            }

            // The footer's ISIZE (SAMv1 §4.1: at most 64 KiB).
            if (ReadAt(file, offset + blockLength - 4, footer, ref bytesRead) < 4 || BinaryPrimitives.ReadUInt32LittleEndian(footer) > BgzfFrame.MaxInflatedSize)
            {
                return false;
            }

            offset += blockLength;
            known = known.Length > blockLength ? known[blockLength..] : [];
        }

        return true;
    }

    /// <summary>The length (BSIZE + 1) of the block whose header <paramref name="header"/> starts with, or -1 when it is not a BGZF header.</summary>
    private static int BlockLength(ReadOnlySpan<byte> header)
    {
        // SAMv1 §4.1: ID1=31 ID2=139 CM=8 FLG=4 MTIME(4) XFL OS XLEN(2), then subfields; BC (SLEN 2) holds BSIZE.
        if (header.Length < HeaderProbeLength || header[0] != 0x1f || header[1] != 0x8b || header[2] != 8 || (header[3] & 4) == 0)
        {
            return -1;
        }

        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        int blockLength = BgzfFrameReader.FindBlockLength(header[BgzfFrame.FixedHeaderLength..Math.Min(header.Length, BgzfFrame.FixedHeaderLength + extraLength)]);
        return blockLength >= BgzfFrame.FixedHeaderLength + extraLength + BgzfFrame.FooterLength ? blockLength : -1;
    }

    private static int ReadAt(Stream file, long offset, Span<byte> buffer, ref long bytesRead)
    {
        file.Position = offset;
        int read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        bytesRead += read;
        return read;
    }
}
