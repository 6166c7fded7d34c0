using Bamflow.Bgzf;

namespace Bamflow.Bam.Index;

/// <summary>Why a BAM file cannot be indexed (<see cref="BamIndexBuilder"/>): the verdicts of htslib's <c>hts_idx_push</c>.</summary>
public enum BamIndexBuildError
{
    /// <summary>A record starts before the one before it on the same reference: the file is not coordinate-sorted.</summary>
    UnsortedPositions,

    /// <summary>A reference's records come in two or more separate runs.</summary>
    ReferencesNotContiguous,

    /// <summary>A record with a reference follows records with none (unplaced reads must all be at the end).</summary>
    PlacedAfterUnplaced,

    /// <summary>A record lies past what the index's binning can hold (BAI: 2^29; CSI: its min_shift and depth).</summary>
    PositionOutOfRange,

    /// <summary>A record ends before it begins.</summary>
    InvalidRange,
}

/// <summary>
/// A BAM file that an index cannot be built for, with samtools' verdict (<c>hts_idx_push</c> of htslib) and the record
/// that caused it: its index in the file (0-based) and virtual position.
/// </summary>
public sealed class BamIndexBuildException : BamFormatException
{
    private BamIndexBuildException(BamIndexBuildError error, string verdict, string advice, string? fileName, long recordIndex, VirtualPosition position, int referenceId)
        : base($"record {recordIndex + 1} at virtual offset {position}: {verdict} ({advice})", fileName, position.CompressedOffset)
    {
        Error = error;
        Verdict = verdict;
        RecordIndex = recordIndex;
        Position = position;
        ReferenceId = referenceId;
    }

    /// <summary>What is wrong.</summary>
    public BamIndexBuildError Error { get; }

    /// <summary>htslib's own words for it, as <c>samtools index</c> prints them after <c>[E::hts_idx_push] </c>.</summary>
    public string Verdict { get; }

    /// <summary>Zero-based index in the file of the record that cannot be indexed.</summary>
    public long RecordIndex { get; }

    /// <summary>The virtual position of that record.</summary>
    public VirtualPosition Position { get; }

    /// <summary>The record's refID (−1: none).</summary>
    public int ReferenceId { get; }

    internal static BamIndexBuildException Unsorted(string? fileName, long recordIndex, VirtualPosition position, int referenceId, long previousBegin, long begin) =>
        new(BamIndexBuildError.UnsortedPositions, $"Unsorted positions on sequence #{referenceId + 1}: {previousBegin + 1} followed by {begin + 1}",
            "the file is not sorted by coordinate: sort it with 'samtools sort' first", fileName, recordIndex, position, referenceId);

    internal static BamIndexBuildException NotContiguous(string? fileName, long recordIndex, VirtualPosition position, int referenceId) =>
        new(BamIndexBuildError.ReferencesNotContiguous, "Chromosome blocks not continuous",
            $"the records of reference #{referenceId + 1} are not all together: the file is not sorted by coordinate; sort it with 'samtools sort' first", fileName, recordIndex, position, referenceId);

    internal static BamIndexBuildException PlacedAfterUnplaced(string? fileName, long recordIndex, VirtualPosition position, int referenceId, int previousReferenceId) =>
        new(BamIndexBuildError.PlacedAfterUnplaced, $"NO_COOR reads not in a single block at the end {referenceId} {previousReferenceId}",
            "reads with no reference must all come last: sort the file with 'samtools sort' first", fileName, recordIndex, position, referenceId);

    internal static BamIndexBuildException OutOfRange(string? fileName, long recordIndex, VirtualPosition position, int referenceId, long begin, long end, bool csi) =>
        new(BamIndexBuildError.PositionOutOfRange,
            csi ? $"Region {begin}..{end} cannot be stored in a csi index with these parameters. Please use a larger min_shift or depth"
                : $"Region {begin}..{end} cannot be stored in a bai index. Try using a csi index",
            csi ? "give a larger min_shift (-m)" : "BAI holds positions below 2^29 only: make a CSI index instead (-c)", fileName, recordIndex, position, referenceId);

    internal static BamIndexBuildException Invalid(string? fileName, long recordIndex, VirtualPosition position, int referenceId, long begin, long end) =>
        new(BamIndexBuildError.InvalidRange, $"Invalid record on sequence #{referenceId + 1}: end {end} < begin {begin + 1}",
            "the record is malformed", fileName, recordIndex, position, referenceId);
}
