using System.Buffers.Binary;
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

    /// <summary>
    /// A header field whose bytes are not UTF-8, which an Arrow file cannot hold unaltered (reference names are Utf8
    /// values, the text is a metadata string).
    /// </summary>
    public static BamHeaderFormatException NotUtf8(string field, string what, string? fileName) =>
        new(field, $"{what} is not valid UTF-8, which Arrow cannot store unaltered (samtools accepts it; convert the header with samtools reheader first)", fileName, null);

    /// <summary>The header field at fault: "magic", "l_text", "text", "n_ref", "l_name", "name".</summary>
    public string Field { get; }

    /// <summary>Where in the inflated stream the field starts, when known.</summary>
    public VirtualPosition? Position { get; }
}

/// <summary>A BAM record is malformed.</summary>
public sealed class BamRecordFormatException : BamFormatException
{
    internal BamRecordFormatException(BamRecordError error, string message, string? fileName, long recordIndex, VirtualPosition position)
        : base($"{message} in record {recordIndex + 1} at virtual offset {position} ({Advice(error)})", fileName, position.CompressedOffset)
    {
        Error = error;
        RecordIndex = recordIndex;
        Position = position;
    }

    /// <summary>A record that failed validation (<see cref="BamRecord.TryCreate"/>), described from its bytes.</summary>
    public static BamRecordFormatException Invalid(BamRecordError error, ReadOnlySpan<byte> data, int referenceCount, string? fileName, long recordIndex, VirtualPosition position) =>
        new(error, Describe(error, data, referenceCount), fileName, recordIndex, position);

    /// <summary>A record whose bytes could not be read (block_size out of range, or the file ends inside it).</summary>
    public static BamRecordFormatException Unreadable(BamRecordError error, string message, string? fileName, long recordIndex, VirtualPosition position) =>
        new(error, message, fileName, recordIndex, position);

    /// <summary>What is wrong with the record.</summary>
    public BamRecordError Error { get; }

    /// <summary>The BAM field at fault, as the SAM spec names it (block_size, read_name, cigar, seq, qual, aux, refID, next_refID, pos, next_pos).</summary>
    public string Field => Error switch
    {
        BamRecordError.BlockSizeTooSmall or BamRecordError.BlockSizeTooLarge or BamRecordError.Truncated => "block_size",
        BamRecordError.ReadNameLength or BamRecordError.ReadNameEncoding => "read_name",
        BamRecordError.CigarOverrun or BamRecordError.CigarOperation or BamRecordError.CigarSequenceMismatch => "cigar",
        BamRecordError.SequenceLength or BamRecordError.SequenceOverrun => "seq",
        BamRecordError.QualityOverrun or BamRecordError.QualityRange => "qual",
        BamRecordError.Position => "pos",
        BamRecordError.MatePosition => "next_pos",
        BamRecordError.ReferenceId => "refID",
        BamRecordError.MateReferenceId => "next_refID",
        _ => "aux",
    };

    /// <summary>Zero-based number of the record in the file.</summary>
    public long RecordIndex { get; }

    /// <summary>Virtual offset of the record's block_size field.</summary>
    public VirtualPosition Position { get; }

    /// <summary>Whether the error is a value out of range (<see cref="BamRecord.ValidateValues"/>), not damage to the record's structure.</summary>
    public static bool IsValueError(BamRecordError error) => error is BamRecordError.Position or BamRecordError.MatePosition
        or BamRecordError.ReadNameEncoding or BamRecordError.QualityRange or BamRecordError.AuxTextEncoding;

    private static string Advice(BamRecordError error) => IsValueError(error) ? "--validation lenient skips such records" : "file is corrupt";

    private static string Describe(BamRecordError error, ReadOnlySpan<byte> data, int referenceCount) => error switch
    {
        BamRecordError.BlockSizeTooSmall => $"block_size {data.Length} is smaller than the {BamRecord.FixedLength + 1} bytes of a record's fixed fields and name",
        BamRecordError.ReferenceId => $"refID {BinaryPrimitives.ReadInt32LittleEndian(data)} is not in the header's {referenceCount} references",
        BamRecordError.MateReferenceId => $"next_refID {BinaryPrimitives.ReadInt32LittleEndian(data[20..])} is not in the header's {referenceCount} references",
        BamRecordError.ReadNameLength => $"l_read_name {data[8]} is 0 or runs past the record's {data.Length} bytes",
        BamRecordError.CigarOverrun => $"{BinaryPrimitives.ReadUInt16LittleEndian(data[12..])} CIGAR operations run past the record's {data.Length} bytes",
        BamRecordError.CigarOperation => "a CIGAR operation code is not one of MIDNSHP=X",
        BamRecordError.SequenceLength => $"l_seq {BinaryPrimitives.ReadInt32LittleEndian(data[16..])} is negative",
        BamRecordError.SequenceOverrun => $"SEQ of l_seq {BinaryPrimitives.ReadInt32LittleEndian(data[16..])} runs past the record's {data.Length} bytes",
        BamRecordError.QualityOverrun => $"QUAL of l_seq {BinaryPrimitives.ReadInt32LittleEndian(data[16..])} runs past the record's {data.Length} bytes",
        BamRecordError.AuxTruncated => "an aux field runs past the end of the record",
        BamRecordError.AuxType => "an aux field has an unknown value type",
        BamRecordError.AuxArrayType => "a B array has an unknown element type",
        BamRecordError.AuxArrayOverrun => "a B array's count runs past the end of the record",
        BamRecordError.AuxStringNotTerminated => "a Z or H aux value is not NUL-terminated",
        BamRecordError.CigarSequenceMismatch => $"the CIGAR's query length differs from l_seq {BinaryPrimitives.ReadInt32LittleEndian(data[16..])} (samtools rejects it too)",
        BamRecordError.Position => $"pos {BinaryPrimitives.ReadInt32LittleEndian(data[4..])} is outside SAMv1's range (POS 0 to 2^31-1, 1-based)",
        BamRecordError.MatePosition => $"next_pos {BinaryPrimitives.ReadInt32LittleEndian(data[24..])} is outside SAMv1's range (PNEXT 0 to 2^31-1, 1-based)",
        BamRecordError.ReadNameEncoding => "read_name is not valid UTF-8, which an Arrow Utf8 column cannot hold",
        BamRecordError.QualityRange => "a QUAL value is above 93 (SAMv1: Phred 0 to 93, '!' to '~')",
        BamRecordError.AuxTextEncoding => "an aux tag or its A, Z or H value is not valid UTF-8, which an Arrow Utf8 column cannot hold",
        _ => error.ToString(),
    };
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
    /// <summary>A mapped record's CIGAR consumes more or fewer query bases than l_seq (htslib's bam_read1 refuses it).</summary>
    CigarSequenceMismatch,
    /// <summary>pos is below -1, or 2^31-1 (1-based 2^31: beyond SAMv1's POS range). Checked by <see cref="BamRecord.ValidateValues"/>.</summary>
    Position,
    /// <summary>next_pos is below -1, or 2^31-1. Checked by <see cref="BamRecord.ValidateValues"/>.</summary>
    MatePosition,
    /// <summary>The read name is not valid UTF-8. Checked by <see cref="BamRecord.ValidateValues"/>.</summary>
    ReadNameEncoding,
    /// <summary>A base quality is above 93 (beyond SAMv1's '~'). Checked by <see cref="BamRecord.ValidateValues"/>.</summary>
    QualityRange,
    /// <summary>An aux tag, or an A, Z or H value, is not valid UTF-8. Checked by <see cref="BamRecord.ValidateValues"/>.</summary>
    AuxTextEncoding,
}
