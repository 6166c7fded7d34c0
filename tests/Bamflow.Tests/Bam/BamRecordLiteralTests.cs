using System.Text;
using Bamflow.Bam;

namespace Bamflow.Tests.Bam;

/// <summary>One record as bytes, laid out field by field from SAMv1 §4.2, decoded and rendered.</summary>
public sealed class BamRecordLiteralTests
{
    // r1  99  ref0  101  60  3M1I4M  =  301  210  ACGTACGT  II#IIIII  NM:i:1  XA:A:q  XC:c:-5  XS:S:65535  XF:f:0.5  XZ:Z:hi  XH:H:1F  XB:B:s,-1,2
    private static readonly byte[] s_record =
    [
        0x00, 0x00, 0x00, 0x00,             // refID = 0
        0x64, 0x00, 0x00, 0x00,             // pos = 100 (0-based; SAM POS 101)
        0x03,                               // l_read_name = 3 ("r1" + NUL)
        0x3C,                               // mapq = 60
        0x49, 0x12,                         // bin = 4681
        0x02, 0x00,                         // n_cigar_op = 2
        0x63, 0x00,                         // flag = 99
        0x08, 0x00, 0x00, 0x00,             // l_seq = 8
        0x00, 0x00, 0x00, 0x00,             // next_refID = 0 (same reference: '=')
        0x2C, 0x01, 0x00, 0x00,             // next_pos = 300 (SAM PNEXT 301)
        0xD2, 0x00, 0x00, 0x00,             // tlen = 210
        (byte)'r', (byte)'1', 0x00,         // read_name "r1\0"
        0x70, 0x00, 0x00, 0x00,             // cigar[0] = 7 << 4 | 0 (M) … 7M
        0x11, 0x00, 0x00, 0x00,             // cigar[1] = 1 << 4 | 1 (I) … 1I  → "7M1I"
        0x12, 0x48, 0x12, 0x48,             // seq: A=1 C=2, G=4 T=8, A C, G T → "ACGTACGT"
        40, 40, 2, 40, 40, 40, 40, 40,      // qual: Phred 40 40 2 40 … → "II#IIIII"
        (byte)'N', (byte)'M', (byte)'C', 1,                             // NM:C:1 → NM:i:1
        (byte)'X', (byte)'A', (byte)'A', (byte)'q',                     // XA:A:q
        (byte)'X', (byte)'C', (byte)'c', 0xFB,                          // XC:c:-5 → XC:i:-5
        (byte)'X', (byte)'S', (byte)'S', 0xFF, 0xFF,                    // XS:S:65535 → XS:i:65535
        (byte)'X', (byte)'F', (byte)'f', 0x00, 0x00, 0x00, 0x3F,        // XF:f:0.5
        (byte)'X', (byte)'Z', (byte)'Z', (byte)'h', (byte)'i', 0x00,    // XZ:Z:hi
        (byte)'X', (byte)'H', (byte)'H', (byte)'1', (byte)'F', 0x00,    // XH:H:1F
        (byte)'X', (byte)'B', (byte)'B', (byte)'s', 0x02, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x02, 0x00, // XB:B:s,-1,2
    ];

    [Fact]
    public void TryCreate_LiteralRecord_DecodesEveryField()
    {
        Assert.Equal(BamRecordError.None, BamRecord.TryCreate(s_record, referenceCount: 1, out BamRecord record));

        Assert.Equal((0, 100, (byte)60, (ushort)4681, (ushort)99), (record.ReferenceId, record.Position, record.MappingQuality, record.Bin, record.Flag));
        Assert.Equal((8, 0, 300, 210), (record.SequenceLength, record.MateReferenceId, record.MatePosition, record.TemplateLength));
        Assert.Equal("r1"u8.ToArray(), record.ReadName.ToArray());
        Assert.Equal(2, record.CigarCount);
        Assert.False(record.CigarFromTag);
        Assert.True(record.HasQuality);
        Assert.Equal(7, record.ReferenceLength); // 7M consumes 7 reference bases, 1I none
    }

    [Fact]
    public void AppendRecord_LiteralRecord_RendersAsSamtoolsWould()
    {
        BamRecord.TryCreate(s_record, 1, out BamRecord record);
        var header = new BamHeader("@SQ\tSN:ref0\tLN:1000\n"u8.ToArray(), [new BamReference("ref0"u8, 1000)]);
        var text = new TextBuffer();

        SamFormatter.AppendRecord(record, header, text);

        Assert.Equal(
            "r1\t99\tref0\t101\t60\t7M1I\t=\t301\t210\tACGTACGT\tII#IIIII\tNM:i:1\tXA:A:q\tXC:i:-5\tXS:i:65535\tXF:f:0.5\tXZ:Z:hi\tXH:H:1F\tXB:B:s,-1,2",
            Encoding.ASCII.GetString(text.WrittenSpan));
    }

    [Theory]
    [InlineData(0, 0x01, BamRecordError.ReferenceId)]            // refID 1 with a one-reference header
    [InlineData(20, 0x05, BamRecordError.MateReferenceId)]       // next_refID 5
    [InlineData(8, 0x00, BamRecordError.ReadNameLength)]         // l_read_name 0
    [InlineData(35, 0x60, BamRecordError.CigarSequenceMismatch)] // cigar[0] 7M → 6M: 7 query bases, l_seq 8
    [InlineData(12, 0xFF, BamRecordError.CigarOverrun)]          // n_cigar_op 255
    [InlineData(35, 0x7F, BamRecordError.CigarOperation)]        // cigar[0] op 15
    [InlineData(19, 0x80, BamRecordError.SequenceLength)]        // l_seq negative
    [InlineData(16, 0x7F, BamRecordError.SequenceOverrun)]       // l_seq 127: 64 bytes of SEQ run past the end
    [InlineData(16, 0x70, BamRecordError.QualityOverrun)]        // l_seq 112: SEQ fits, QUAL does not
    [InlineData(57, 0x71, BamRecordError.AuxType)]               // NM's type 'C' → 'q'
    [InlineData(95, 0x09, BamRecordError.AuxArrayOverrun)]       // XB count 9
    [InlineData(94, 0x78, BamRecordError.AuxArrayType)]          // XB subtype 'x'
    public void TryCreate_OneCorruptField_ReportsThatField(int offset, byte value, BamRecordError expected)
    {
        byte[] corrupt = (byte[])s_record.Clone();
        corrupt[offset] = value;

        Assert.Equal(expected, BamRecord.TryCreate(corrupt, referenceCount: 1, out _));
    }

    [Fact]
    public void TryCreate_TruncatedAnywhere_FailsUnlessCutBetweenAuxFields()
    {
        // Aux fields start at 55, 59, 63, 67, 72, 79, 85 and 91: a record cut there is a valid record with fewer tags,
        // and so is one cut 1 to 3 bytes after (fewer bytes than any field: htslib ignores them, and so does Bamflow).
        int[] auxBoundaries = [55, 59, 63, 67, 72, 79, 85, 91];
        for (int length = 0; length < s_record.Length; length++)
        {
            BamRecordError error = BamRecord.TryCreate(s_record.AsSpan(0, length), 1, out _);
            bool valid = auxBoundaries.Any(b => length >= b && length - b < AuxDecoder.MinFieldLength);
            Assert.True((error == BamRecordError.None) == valid, $"cut at {length}: {error}");
        }
    }
}
