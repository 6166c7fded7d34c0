using Bamflow.Bgzf;

namespace Bamflow.Bam;

/// <summary>The BAM header (magic, text, reference list) is malformed.</summary>
public sealed class BamHeaderFormatException : BamFormatException
{
    internal BamHeaderFormatException(string field, string message, string? fileName, VirtualPosition? position)
        : base(message, fileName, position?.CompressedOffset)
    {
        Field = field;
        Position = position;
    }

    /// <summary>The header field at fault: "magic", "l_text", "text", "n_ref", "l_name", "name", "l_ref".</summary>
    public string Field { get; }

    /// <summary>Where in the inflated stream the field starts, when known.</summary>
    public VirtualPosition? Position { get; }
}

/// <summary>A BAM record is malformed.</summary>
public sealed class BamRecordFormatException : BamFormatException
{
    internal BamRecordFormatException(BamRecordError error, string message, string? fileName, long recordIndex, VirtualPosition position)
        : base($"{message} in record {recordIndex + 1} at virtual offset {position} (file is corrupt)", fileName, position.CompressedOffset)
    {
        Error = error;
        RecordIndex = recordIndex;
        Position = position;
    }

    /// <summary>What is wrong with the record.</summary>
    public BamRecordError Error { get; }

    /// <summary>The BAM field at fault, as the SAM spec names it (block_size, l_read_name, cigar, seq, qual, aux, refID, next_refID).</summary>
    public string Field => Error switch
    {
        BamRecordError.BlockSizeTooSmall or BamRecordError.BlockSizeTooLarge or BamRecordError.Truncated => "block_size",
        BamRecordError.ReadNameLength or BamRecordError.ReadNameNotTerminated => "read_name",
        BamRecordError.CigarOverrun or BamRecordError.CigarOperation => "cigar",
        BamRecordError.SequenceLength or BamRecordError.SequenceOverrun => "seq",
        BamRecordError.QualityOverrun => "qual",
        BamRecordError.ReferenceId => "refID",
        BamRecordError.MateReferenceId => "next_refID",
        _ => "aux",
    };

    /// <summary>Zero-based number of the record in the file.</summary>
    public long RecordIndex { get; }

    /// <summary>Virtual offset of the record's block_size field.</summary>
    public VirtualPosition Position { get; }
}

/// <summary>Why a record failed validation.</summary>
public enum BamRecordError
{
    /// <summary>The record is well formed.</summary>
    None,
    /// <summary>block_size is smaller than the 32 bytes of fixed fields.</summary>
    BlockSizeTooSmall,
    /// <summary>block_size is larger than Bamflow accepts for one record.</summary>
    BlockSizeTooLarge,
    /// <summary>The file ends inside the record.</summary>
    Truncated,
    /// <summary>l_read_name is 0 or runs past the record.</summary>
    ReadNameLength,
    /// <summary>The read name is not NUL-terminated.</summary>
    ReadNameNotTerminated,
    /// <summary>n_cigar_op operations run past the record.</summary>
    CigarOverrun,
    /// <summary>A CIGAR operation code is not one of MIDNSHP=X.</summary>
    CigarOperation,
    /// <summary>l_seq is negative.</summary>
    SequenceLength,
    /// <summary>The packed sequence runs past the record.</summary>
    SequenceOverrun,
    /// <summary>The qualities run past the record.</summary>
    QualityOverrun,
    /// <summary>An aux field runs past the record.</summary>
    AuxTruncated,
    /// <summary>An aux field has an unknown value type.</summary>
    AuxType,
    /// <summary>A B array has an unknown element type.</summary>
    AuxArrayType,
    /// <summary>A B array's count runs past the record.</summary>
    AuxArrayOverrun,
    /// <summary>A Z or H string is not NUL-terminated.</summary>
    AuxStringNotTerminated,
    /// <summary>refID is below -1 or not in the header's reference list.</summary>
    ReferenceId,
    /// <summary>next_refID is below -1 or not in the header's reference list.</summary>
    MateReferenceId,
}
