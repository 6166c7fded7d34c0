namespace Bamflow.Bgzf;

/// <summary>
/// One compressed BGZF block as read from the file, before inflating: where it is and what its header and
/// footer say. The bytes themselves live in the buffer the <see cref="BgzfFrameReader"/> filled.
/// </summary>
/// <param name="CompressedOffset">Offset of the block's first byte in the file.</param>
/// <param name="Length">Total size of the block in bytes (BSIZE + 1).</param>
/// <param name="DataOffset">Offset of the DEFLATE data inside the block (12 + XLEN).</param>
/// <param name="DataLength">Length of the DEFLATE data (CDATA).</param>
/// <param name="Crc32">The CRC32 of the inflated data, from the footer.</param>
/// <param name="InflatedLength">ISIZE: the size of the inflated data, from the footer.</param>
/// <param name="IsEofMarker">Whether this is the 28-byte empty end-of-file marker block.</param>
public readonly record struct BgzfFrame(
    long CompressedOffset, int Length, int DataOffset, int DataLength, uint Crc32, int InflatedLength, bool IsEofMarker)
{
    /// <summary>SAMv1 §4.1: BSIZE is a uint16 holding the total block size minus 1, so a block is at most 64 KiB.</summary>
    public const int MaxLength = ushort.MaxValue + 1;

    /// <summary>SAMv1 §4.1: the inflated data of one block is at most 64 KiB.</summary>
    public const int MaxInflatedSize = 65536;

    /// <summary>Fixed gzip header: ID1 ID2 CM FLG MTIME(4) XFL OS XLEN(2).</summary>
    public const int FixedHeaderLength = 12;

    /// <summary>Footer: CRC32(4) ISIZE(4).</summary>
    public const int FooterLength = 8;

    /// <summary>SAMv1 §4.1.2: the end-of-file marker, an empty block with these exact 28 bytes.</summary>
    public static ReadOnlySpan<byte> EofMarker =>
    [
        0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
        0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// <summary>Offset of the first byte after this block: the next block's compressed offset.</summary>
    public long NextCompressedOffset => CompressedOffset + Length;
}
