using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

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

    private const int Unmapped = 0x4;        // FLAG bit 0x4: segment unmapped

    // SAMv1 §1.4: QUAL is Phred+33 text in [!-~], so a stored quality is at most 126 - 33.
    private const byte MaxQuality = 93;

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

        // A read_name without its NUL is accepted, as htslib's bam_read1 does (fixup_missing_qname_nul): the name is
        // then all l_read_name bytes.
        int cigarOffset = ReadNameOffset + nameLength;
        int cigarCount = BinaryPrimitives.ReadUInt16LittleEndian(data[NCigarOpOffset..]);
        long sequenceOffset = cigarOffset + (4L * cigarCount);
        if (sequenceOffset > data.Length)
        {
            return BamRecordError.CigarOverrun;
        }

        if (!CigarDecoder.TryGetQueryLength(data.Slice(cigarOffset, 4 * cigarCount), out long queryLength))
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
                && CigarDecoder.TryGetQueryLength(aux.Slice(cgOffset + 8, (int)cgCount * 4), out long cgQueryLength))
            {
                cgFieldOffset = cgOffset;
                cigarOffset = (int)auxOffset + cgOffset + 8;
                cigarCount = (int)cgCount;
                queryLength = cgQueryLength;
            }
        }

        // htslib's bam_read1 (after bam_tag2cigar): a mapped record with a CIGAR and a SEQ must have as many query
        // bases in its CIGAR (M/I/S/=/X) as l_seq, or samtools view and flagstat fail on it.
        if (cigarCount > 0 && sequenceLength > 0 && (BinaryPrimitives.ReadUInt16LittleEndian(data[FlagOffset..]) & Unmapped) == 0
            && queryLength != sequenceLength)
        {
            return BamRecordError.CigarSequenceMismatch;
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

    /// <summary>
    /// read_name up to its first NUL (extra NUL padding, as htslib may write, excluded); all l_read_name bytes when
    /// there is no NUL (as htslib reads such a name).
    /// </summary>
    public ReadOnlySpan<byte> ReadName
    {
        get
        {
            ReadOnlySpan<byte> name = _data.Slice(ReadNameOffset, _data[LReadNameOffset]);
            int nul = name.IndexOf((byte)0);
            return nul < 0 ? name : name[..nul];
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

    /// <summary>
    /// Checks the values that text and 32-bit columns store against the ranges of SAMv1 §1.4, where a value outside
    /// them could not be stored exactly: pos and next_pos are -1 or a 0-based position whose 1-based POS fits
    /// [0, 2^31-1]; read_name is valid UTF-8; QUAL (when present) is at most 93 ('~'); each aux tag and each
    /// A/Z/H value is valid UTF-8. Valid UTF-8 outside the spec's character sets (a read name with '@', a Z tag with
    /// accented letters) is kept: only what a Utf8 column cannot hold is refused. samtools accepts all of these
    /// and prints the bytes as they are; a conversion refuses them (see README, "Validity of what is written").
    /// </summary>
    /// <returns><see cref="BamRecordError.None"/>, or the first field found out of range.</returns>
    public BamRecordError ValidateValues()
    {
        int position = Position;
        if (position < -1 || position == int.MaxValue)
        {
            return BamRecordError.Position;
        }

        int matePosition = MatePosition;
        if (matePosition < -1 || matePosition == int.MaxValue)
        {
            return BamRecordError.MatePosition;
        }

        if (!Utf8.IsValid(ReadName))
        {
            return BamRecordError.ReadNameEncoding;
        }

        if (HasQuality && Quality.ContainsAnyInRange((byte)(MaxQuality + 1), byte.MaxValue))
        {
            return BamRecordError.QualityRange;
        }

        // Most records' aux bytes are all ASCII (small integers, ASCII text): then no text in them can be invalid.
        ReadOnlySpan<byte> aux = AuxData;
        if (!aux.ContainsAnyInRange((byte)0x80, byte.MaxValue))
        {
            return BamRecordError.None;
        }

        foreach (AuxField field in AuxFields)
        {
            bool valid = field.Type switch
            {
                (byte)'A' => field.Value[0] < 0x80,
                (byte)'Z' or (byte)'H' => Utf8.IsValid(field.Value),
                _ => true,
            };
            if (!valid || !Utf8.IsValid(field.Tag))
            {
                return BamRecordError.AuxTextEncoding;
            }
        }

        return BamRecordError.None;
    }

    /// <summary>Reference span of the alignment: the sum of M/D/N/=/X lengths; 0 without a CIGAR.</summary>
    public long ReferenceLength => CigarDecoder.ReferenceLength(Cigar);

    /// <summary>
    /// htslib's <c>bam_endpos</c>: the 0-based position after the alignment's last reference base, POS + the CIGAR's
    /// reference length, at least POS + 1 (an unmapped read, or a CIGAR consuming no reference, counts as length 1).
    /// What indexes bin a record by and region queries test overlap with.
    /// </summary>
    public long EndPosition => Position + ((Flag & 0x4) != 0 ? 1 : Math.Max(1, ReferenceLength)); // flag 0x4: BAM_FUNMAP

    private int SequenceOffset => ReadNameOffset + _data[LReadNameOffset] + (4 * BinaryPrimitives.ReadUInt16LittleEndian(_data[NCigarOpOffset..]));

    private int AuxOffset => SequenceOffset + ((SequenceLength + 1) >> 1) + SequenceLength;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadInt32(int offset) => BinaryPrimitives.ReadInt32LittleEndian(_data[offset..]);
}
