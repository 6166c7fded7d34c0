namespace Bamflow.Bam.Index;

/// <summary>Why an index cannot be used.</summary>
public enum BamIndexError
{
    /// <summary>No index was found (or the named one does not exist).</summary>
    Missing,
    /// <summary>The index is older than its BAM file (by modification time): it may describe another file.</summary>
    Stale,
    /// <summary>The index ends before its structures do.</summary>
    Truncated,
    /// <summary>The index is not a BAI or CSI file, or its structures are inconsistent.</summary>
    Corrupt,
    /// <summary>The index describes a different number of references than the BAM header has.</summary>
    ReferenceCountMismatch,
}

/// <summary>
/// A BAI or CSI index cannot be used. <see cref="BamFormatException.CompressedOffset"/> is the byte offset in the index
/// where parsing failed (in its inflated contents when the index is gzip/BGZF-compressed, as CSI files are).
/// </summary>
public sealed class BamIndexException : BamFormatException
{
    private BamIndexException(BamIndexError kind, string message, string? fileName, long? offset, Exception? inner = null)
        : base(message, fileName, offset, inner)
    {
        Kind = kind;
    }

    /// <summary>What is wrong.</summary>
    public BamIndexError Kind { get; }

    /// <summary>No index found for <paramref name="bamPath"/>, or the given one does not exist.</summary>
    public static BamIndexException Missing(string? bamPath, string? indexPath = null) => indexPath is null
        ? new(BamIndexError.Missing, $"no index found for {bamPath ?? "the input"} (looked for .bam.csi, .csi, .bam.bai, .bai beside it); region queries need one: run `bamflow index {bamPath ?? "IN.bam"}`", bamPath, null)
        : new(BamIndexError.Missing, $"index file {indexPath} does not exist; run `bamflow index {bamPath ?? "IN.bam"}` or give another with -X", indexPath, null);

    /// <summary>The index is older than its BAM.</summary>
    public static BamIndexException Stale(string indexPath, string bamPath) =>
        new(BamIndexError.Stale, $"index is older than {bamPath} (it may describe another version of the file); rebuild it with `bamflow index {bamPath}`", indexPath, null);

    /// <summary>The index ends inside a structure.</summary>
    public static BamIndexException Truncated(string? indexPath, long offset, string what) =>
        new(BamIndexError.Truncated, $"index ends at byte {offset} inside {what} (file is truncated); rebuild it with `bamflow index`", indexPath, offset);

    /// <summary>The index is malformed.</summary>
    public static BamIndexException Corrupt(string? indexPath, long offset, string what, Exception? inner = null) =>
        new(BamIndexError.Corrupt, $"index is corrupt at byte {offset}: {what}; rebuild it with `bamflow index`", indexPath, offset, inner);

    /// <summary>The index has <paramref name="indexCount"/> references, the BAM header <paramref name="headerCount"/>.</summary>
    public static BamIndexException ReferenceCountMismatch(string? indexPath, int indexCount, int headerCount) =>
        new(BamIndexError.ReferenceCountMismatch, $"index describes {indexCount} references but the BAM header has {headerCount}: it belongs to another file; rebuild it with `bamflow index`", indexPath, null);
}
