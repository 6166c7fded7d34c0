using Bamflow.Bgzf;

namespace Bamflow.Bam;

/// <summary>
/// The checks every reader makes on a record's block_size (SAMv1 §4.2) before it reads the record's bytes, so that one
/// corrupt length can neither allocate without limit nor keep a reader reading for it: it must be at least the fixed
/// fields and a name, and at most the record size limit. The sequential <see cref="BamReader"/> and the parallel engine
/// both frame records with it, so a bad length gets the same error, record and position from both. (A length past the
/// end of the file is found when the file ends: a verdict taken before reading the rest could contradict the error the
/// rest holds, a cut or corrupt block, which the other engine may already have read.)
/// </summary>
public static class BamRecordFraming
{
    /// <summary>The smallest block_size: the 32 bytes of fixed fields and a read name of at least its NUL.</summary>
    public const int MinBlockSize = BamRecord.FixedLength + 1;

    /// <summary>
    /// The default limit on a record's block_size: 64 MiB. The largest real records are ultra-long nanopore reads: a
    /// 1 Mb read with qualities and MM/ML base-modification tags takes 3–5 MB, and the longest reads reported (about
    /// 4 Mb) some 15–20 MB, so this leaves three times that; while a corrupt length below it costs at most this much
    /// memory before the record fails.
    /// </summary>
    public const int DefaultMaxRecordSize = 64 << 20;

    /// <summary>The highest record size limit that may be set: 1 GiB (a record's bytes and the segment after it must fit one array).</summary>
    public const int MaxRecordSizeLimit = 1 << 30;

    /// <summary>Whether <paramref name="blockSize"/> is between <see cref="MinBlockSize"/> and <paramref name="maxRecordSize"/> (one comparison).</summary>
    public static bool IsInRange(int blockSize, int maxRecordSize) => (uint)(blockSize - MinBlockSize) <= (uint)(maxRecordSize - MinBlockSize);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="maxRecordSize"/> is a usable limit.</summary>
    public static void ValidateMaxRecordSize(int maxRecordSize)
    {
        if (maxRecordSize < MinBlockSize || maxRecordSize > MaxRecordSizeLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRecordSize), maxRecordSize, $"the record size limit must be between {MinBlockSize} bytes and {MaxRecordSizeLimit / (1 << 20)} MiB (got {maxRecordSize})");
        }
    }

    /// <summary>
    /// The error for a record whose block_size cannot be true, or null: below <see cref="MinBlockSize"/>
    /// (<see cref="BamRecordError.BlockSizeTooSmall"/>) or above <paramref name="maxRecordSize"/>
    /// (<see cref="BamRecordError.BlockSizeTooLarge"/>).
    /// </summary>
    public static BamRecordFormatException? Check(int blockSize, int maxRecordSize, string? fileName, long recordIndex, VirtualPosition position)
    {
        if (blockSize < MinBlockSize)
        {
            return BamRecordFormatException.Unreadable(BamRecordError.BlockSizeTooSmall,
                $"block_size {blockSize} is smaller than the {MinBlockSize} bytes of a record's fixed fields and name", fileName, recordIndex, position);
        }

        if (blockSize > maxRecordSize)
        {
            return BamRecordFormatException.Unreadable(BamRecordError.BlockSizeTooLarge,
                $"block_size {blockSize} is larger than the record size limit of {maxRecordSize} bytes (raise it with --max-record-size only if the file really holds such a record)",
                fileName, recordIndex, position);
        }

        return null;
    }
}
