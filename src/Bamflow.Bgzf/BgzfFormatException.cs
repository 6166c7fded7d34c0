namespace Bamflow.Bgzf;

/// <summary>What is wrong with a BGZF block.</summary>
public enum BgzfError
{
    /// <summary>The block does not start with the gzip magic bytes 1f 8b.</summary>
    BadMagic,
    /// <summary>A gzip member that is not a BGZF block (no FEXTRA, no BC subfield, or not DEFLATE).</summary>
    NotBgzf,
    /// <summary>BSIZE is too small to hold the block's own header and footer.</summary>
    BlockSizeOutOfRange,
    /// <summary>ISIZE is larger than the 64 KiB a BGZF block may hold.</summary>
    InflatedSizeOutOfRange,
    /// <summary>The file ends inside a block.</summary>
    Truncated,
    /// <summary>The DEFLATE data is corrupt.</summary>
    InflateFailed,
    /// <summary>The DEFLATE data inflates to a size other than ISIZE.</summary>
    InflatedSizeMismatch,
    /// <summary>The CRC32 of the inflated data differs from the block's CRC32 field.</summary>
    CrcMismatch,
}

/// <summary>A BGZF block is malformed. <see cref="BamFormatException.CompressedOffset"/> names the block.</summary>
public sealed class BgzfFormatException : BamFormatException
{
    private BgzfFormatException(BgzfError error, string message, string? source, long compressedOffset, Exception? inner = null)
        : base(message, source, compressedOffset, inner)
    {
        Error = error;
    }

    /// <summary>What is wrong.</summary>
    public BgzfError Error { get; }

    /// <summary>The block does not start with the gzip magic.</summary>
    public static BgzfFormatException BadMagic(string? source, long compressedOffset, byte id1, byte id2) =>
        new(BgzfError.BadMagic, $"not a BGZF/BAM file: expected gzip magic 1f 8b at compressed offset {compressedOffset}, found {id1:x2} {id2:x2}", source, compressedOffset);

    /// <summary>A gzip member without the BGZF layout.</summary>
    public static BgzfFormatException NotBgzf(string? source, long compressedOffset, string what) =>
        new(BgzfError.NotBgzf, $"gzip member at compressed offset {compressedOffset} is not a BGZF block ({what}); BAM files must be BGZF-compressed (re-compress with bgzip or samtools)", source, compressedOffset);

    /// <summary>BSIZE cannot hold the block's header and footer.</summary>
    public static BgzfFormatException BlockSizeOutOfRange(string? source, long compressedOffset, int blockSize, int minimum) =>
        new(BgzfError.BlockSizeOutOfRange, $"BGZF block at compressed offset {compressedOffset} claims a total size of {blockSize} bytes, less than the {minimum} its header and footer need (file is corrupt)", source, compressedOffset);

    /// <summary>ISIZE beyond 64 KiB.</summary>
    public static BgzfFormatException InflatedSizeOutOfRange(string? source, long compressedOffset, uint inflatedSize) =>
        new(BgzfError.InflatedSizeOutOfRange, $"BGZF block at compressed offset {compressedOffset} claims to inflate to {inflatedSize} bytes; the limit is {BgzfFrame.MaxInflatedSize} (file is corrupt)", source, compressedOffset);

    /// <summary>The file ends inside a block.</summary>
    public static BgzfFormatException Truncated(string? source, long compressedOffset, int expected, int actual) =>
        new(BgzfError.Truncated, $"file ends inside the BGZF block at compressed offset {compressedOffset}: needed {expected} bytes, found {actual} (file is truncated)", source, compressedOffset);

    /// <summary>Corrupt DEFLATE data.</summary>
    public static BgzfFormatException InflateFailed(string? source, long compressedOffset, string detail, Exception? inner = null) =>
        new(BgzfError.InflateFailed, $"cannot inflate the BGZF block at compressed offset {compressedOffset}: {detail} (file is corrupt)", source, compressedOffset, inner);

    /// <summary>Inflated to a size other than ISIZE.</summary>
    public static BgzfFormatException InflatedSizeMismatch(string? source, long compressedOffset, int expected, int actual) =>
        new(BgzfError.InflatedSizeMismatch, $"BGZF block at compressed offset {compressedOffset} inflated to {actual} bytes but its ISIZE says {expected} (file is corrupt)", source, compressedOffset);

    /// <summary>CRC32 mismatch.</summary>
    public static BgzfFormatException CrcMismatch(string? source, long compressedOffset, uint expected, uint actual) =>
        new(BgzfError.CrcMismatch, $"CRC mismatch in BGZF block at compressed offset {compressedOffset}: expected {expected:x8}, computed {actual:x8} (file is corrupt)", source, compressedOffset);
}
