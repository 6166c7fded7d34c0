using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Bamflow.Bam;

/// <summary>
/// A zero-copy view over one BAM alignment record (SAMv1 §4.2), the bytes after <c>block_size</c>. Lengths are
/// validated once, by <see cref="TryCreate"/>; fields are decoded on demand without further checks.
/// </summary>
public readonly ref struct BamRecord
{
    // SAMv1 §4.2: offsets of the fixed fields, counted from the byte after block_size.
    private const int RefIdOffset = 0;       // refID, int32
    private const int PosOffset = 4;         // pos, int32 (0-based)
    private const int LReadNameOffset = 8;   // l_read_name, uint8
    private const int MapqOffset = 9;        // mapq, uint8
    private const int BinOffset = 10;        // bin, uint16
    private const int NCigarOpOffset = 12;   // n_cigar_op, uint16
    private const int FlagOffset = 14;       // flag, uint16
    private const int LSeqOffset = 16;       // l_seq, uint32
    private const int NextRefIdOffset = 20;  // next_refID, int32
    private const int NextPosOffset = 24;    // next_pos, int32
    private const int TlenOffset = 28;       // tlen, int32
    private const int ReadNameOffset = 32;   // read_name, char[l_read_name] NUL-terminated

    /// <summary>Bytes of fixed fields before read_name: the smallest possible block_size is this plus a 1-byte name.</summary>
    public const int FixedLength = 32;

    /// <summary>CIGAR operation codes in order: SAMv1 §4.2 "MIDNSHP=X" → 0..8.</summary>
    public static ReadOnlySpan<byte> CigarOperations => "MIDNSHP=X"u8;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _cigarOffset;
    private readonly int _cigarCount;
    private readonly int _cgFieldOffset;

    private BamRecord(ReadOnlySpan<byte> data, int cigarOffset, int cigarCount, int cgFieldOffset)
    {
        _data = data;
        _cigarOffset = cigarOffset;
        _cigarCount = cigarCount;
        _cgFieldOffset = cgFieldOffset;
    }

    /// <summary>
    /// Validates <paramref name="data"/> (one record without its block_size prefix) against the lengths it declares
    /// and against a header with <paramref name="referenceCount"/> references, and creates a view over it.
    /// </summary>
    public static BamRecordError TryCreate(ReadOnlySpan<byte> data, int referenceCount, out BamRecord record)
    {
        record = default;
        if (data.Length < FixedLength + 1)
        {
            return BamRecordError.BlockSizeTooSmall;
        }

        int refId = BinaryPrimitives.ReadInt32LittleEndian(data[RefIdOffset..]);
        if (refId < -1 || refId >= referenceCount)
        {
            return BamRecordError.ReferenceId;
        }

        int mateRefId = BinaryPrimitives.ReadInt32LittleEndian(data[NextRefIdOffset..]);
        if (mateRefId < -1 || mateRefId >= referenceCount)
        {
            return BamRecordError.MateReferenceId;
        }

        int nameLength = data[LReadNameOffset];
        if (nameLength == 0 || ReadNameOffset + nameLength > data.Length)
        {
            return BamRecordError.ReadNameLength;
        }

        if (data[ReadNameOffset + nameLength - 1] != 0)
        {
            return BamRecordError.ReadNameNotTerminated;
        }

        int cigarOffset = ReadNameOffset + nameLength;
        int cigarCount = BinaryPrimitives.ReadUInt16LittleEndian(data[NCigarOpOffset..]);
        long sequenceOffset = cigarOffset + (4L * cigarCount);
        if (sequenceOffset > data.Length)
        {
            return BamRecordError.CigarOverrun;
        }

        if (!CigarDecoder.AreValid(data.Slice(cigarOffset, 4 * cigarCount)))
        {
            return BamRecordError.CigarOperation;
        }

        int sequenceLength = BinaryPrimitives.ReadInt32LittleEndian(data[LSeqOffset..]);
        if (sequenceLength < 0)
        {
            return BamRecordError.SequenceLength;
        }

        long qualityOffset = sequenceOffset + ((sequenceLength + 1L) / 2);
        if (qualityOffset > data.Length)
        {
            return BamRecordError.SequenceOverrun;
        }

        long auxOffset = qualityOffset + sequenceLength;
        if (auxOffset > data.Length)
        {
            return BamRecordError.QualityOverrun;
        }

        ReadOnlySpan<byte> aux = data[(int)auxOffset..];
        BamRecordError auxError = AuxDecoder.Validate(aux, out int cgOffset, out _);
        if (auxError != BamRecordError.None)
        {
            return auxError;
        }

        int cgFieldOffset = -1;
        if (cgOffset >= 0 && cigarCount > 0 && refId >= 0 && BinaryPrimitives.ReadInt32LittleEndian(data[PosOffset..]) >= 0)
        {
            // SAMv1 §4.2.2 (N_CIGAR_OP field): more than 65535 operations are stored in a CG:B:I tag, and the CIGAR
            // field holds <l_seq>S<ref_len>N. Use CG as htslib's bam_tag2cigar does: first op soft-clips the whole
            // read, CG has at least as many operations as the placeholder and fewer than 2^29.
            uint first = BinaryPrimitives.ReadUInt32LittleEndian(data[cigarOffset..]);
            uint cgCount = BinaryPrimitives.ReadUInt32LittleEndian(aux[(cgOffset + 4)..]);
            if (first == (((uint)sequenceLength << 4) | 4) && cgCount >= cigarCount && cgCount < (1u << 29)
                && CigarDecoder.AreValid(aux.Slice(cgOffset + 8, (int)cgCount * 4)))
            {
                cgFieldOffset = cgOffset;
                cigarOffset = (int)auxOffset + cgOffset + 8;
                cigarCount = (int)cgCount;
            }
        }

        record = new BamRecord(data, cigarOffset, cigarCount, cgFieldOffset);
        return BamRecordError.None;
    }

    /// <summary>The record's bytes (without block_size).</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>refID: index into the header's references, or -1.</summary>
    public int ReferenceId => ReadInt32(RefIdOffset);

    /// <summary>pos: 0-based leftmost position, or -1.</summary>
    public int Position => ReadInt32(PosOffset);

    /// <summary>mapq: mapping quality (255 = unavailable).</summary>
    public byte MappingQuality => _data[MapqOffset];

    /// <summary>bin: the BAI bin, as stored.</summary>
    public ushort Bin => BinaryPrimitives.ReadUInt16LittleEndian(_data[BinOffset..]);

    /// <summary>flag: the bitwise FLAG.</summary>
    public ushort Flag => BinaryPrimitives.ReadUInt16LittleEndian(_data[FlagOffset..]);

    /// <summary>l_seq: length of SEQ (0 when SEQ is '*').</summary>
    public int SequenceLength => ReadInt32(LSeqOffset);

    /// <summary>next_refID: the mate's reference, or -1.</summary>
    public int MateReferenceId => ReadInt32(NextRefIdOffset);

    /// <summary>next_pos: the mate's 0-based position, or -1.</summary>
    public int MatePosition => ReadInt32(NextPosOffset);

    /// <summary>tlen: observed template length.</summary>
    public int TemplateLength => ReadInt32(TlenOffset);

    /// <summary>read_name up to its first NUL (extra NUL padding, as htslib may write, excluded).</summary>
    public ReadOnlySpan<byte> ReadName
    {
        get
        {
            ReadOnlySpan<byte> name = _data.Slice(ReadNameOffset, _data[LReadNameOffset]);
            return name[..name.IndexOf((byte)0)];
        }
    }

    /// <summary>The number of CIGAR operations (from the CG tag when it holds the real CIGAR).</summary>
    public int CigarCount => _cigarCount;

    /// <summary>The CIGAR operations as little-endian uint32 (op_len &lt;&lt; 4 | op), the real ones when CG holds them.</summary>
    public ReadOnlySpan<byte> Cigar => _data.Slice(_cigarOffset, 4 * _cigarCount);

    /// <summary>Whether the CIGAR came from a CG:B:I tag (more than 65,535 operations); that tag is then hidden from <see cref="AuxFields"/>.</summary>
    public bool CigarFromTag => _cgFieldOffset >= 0;

    /// <summary>seq: 4-bit packed bases, two per byte, high nibble first ((l_seq + 1) / 2 bytes).</summary>
    public ReadOnlySpan<byte> PackedSequence => _data.Slice(SequenceOffset, (SequenceLength + 1) >> 1);

    /// <summary>qual: Phred base qualities without the +33 (l_seq bytes; 0xFF in the first byte means absent).</summary>
    public ReadOnlySpan<byte> Quality => _data.Slice(SequenceOffset + ((SequenceLength + 1) >> 1), SequenceLength);

    /// <summary>Whether qualities are present (SEQ is not '*' and the first quality byte is not 0xFF, as htslib decides).</summary>
    public bool HasQuality => SequenceLength > 0 && Quality[0] != 0xFF;

    /// <summary>The raw aux data: all optional fields, as stored.</summary>
    public ReadOnlySpan<byte> AuxData => _data[AuxOffset..];

    /// <summary>The optional fields in stored order (without a CG tag that supplied the CIGAR).</summary>
    public AuxEnumerator AuxFields => new(AuxData, _cgFieldOffset);

    /// <summary>Finds the first aux field with tag <paramref name="tag"/>.</summary>
    public bool TryGetAux(ReadOnlySpan<byte> tag, out AuxField field)
    {
        foreach (AuxField candidate in AuxFields)
        {
            if (candidate.Tag.SequenceEqual(tag))
            {
                field = candidate;
                return true;
            }
        }

        field = default;
        return false;
    }

    /// <summary>Reference span of the alignment: the sum of M/D/N/=/X lengths; 0 without a CIGAR.</summary>
    public long ReferenceLength => CigarDecoder.ReferenceLength(Cigar);

    private int SequenceOffset => ReadNameOffset + _data[LReadNameOffset] + (4 * BinaryPrimitives.ReadUInt16LittleEndian(_data[NCigarOpOffset..]));

    private int AuxOffset => SequenceOffset + ((SequenceLength + 1) >> 1) + SequenceLength;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadInt32(int offset) => BinaryPrimitives.ReadInt32LittleEndian(_data[offset..]);
}
