using System.Text;
using Bamflow.Bam;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bam;

/// <summary>
/// Aux fields (SAMv1 §4.2.4) of every type, at their boundary values, as <see cref="AuxField"/> exposes them and as
/// <see cref="SamFormatter.AppendAux"/> prints them; samtools is the oracle for the text.
/// </summary>
public sealed class AuxDecoderTests
{
    // a  4  *  0  0  *  *  0  0  *  *   — the fixed fields every aux field under test is appended to.
    private static readonly byte[] s_unmappedPrefix =
    [
        0xFF, 0xFF, 0xFF, 0xFF,             // refID = -1
        0xFF, 0xFF, 0xFF, 0xFF,             // pos = -1
        0x02,                               // l_read_name = 2 ("a" + NUL)
        0x00,                               // mapq = 0
        0x48, 0x12,                         // bin = 4680
        0x00, 0x00,                         // n_cigar_op = 0
        0x04, 0x00,                         // flag = 4 (unmapped)
        0x00, 0x00, 0x00, 0x00,             // l_seq = 0
        0xFF, 0xFF, 0xFF, 0xFF,             // next_refID = -1
        0xFF, 0xFF, 0xFF, 0xFF,             // next_pos = -1
        0x00, 0x00, 0x00, 0x00,             // tlen = 0
        (byte)'a', 0x00,                    // read_name = "a\0"
    ];

    /// <summary>One aux field as stored (tag, type, value) and the text samtools prints for it.</summary>
    public static TheoryData<byte[], string> Fields => new()
    {
        { [.. "XA"u8, (byte)'A', (byte)'q'], "XA:A:q" },                                       // A: one character
        { [.. "c0"u8, (byte)'c', 0x80], "c0:i:-128" },                                         // c: int8 min
        { [.. "c1"u8, (byte)'c', 0x7F], "c1:i:127" },                                          // c: int8 max
        { [.. "c2"u8, (byte)'c', 0xFF], "c2:i:-1" },                                           // c: -1
        { [.. "C0"u8, (byte)'C', 0x00], "C0:i:0" },                                            // C: uint8 min
        { [.. "C1"u8, (byte)'C', 0xFF], "C1:i:255" },                                          // C: uint8 max
        { [.. "s0"u8, (byte)'s', 0x00, 0x80], "s0:i:-32768" },                                 // s: int16 min
        { [.. "s1"u8, (byte)'s', 0xFF, 0x7F], "s1:i:32767" },                                  // s: int16 max
        { [.. "S0"u8, (byte)'S', 0x00, 0x00], "S0:i:0" },                                      // S: uint16 min
        { [.. "S1"u8, (byte)'S', 0xFF, 0xFF], "S1:i:65535" },                                  // S: uint16 max
        { [.. "i0"u8, (byte)'i', 0x00, 0x00, 0x00, 0x80], "i0:i:-2147483648" },                // i: int32 min
        { [.. "i1"u8, (byte)'i', 0xFF, 0xFF, 0xFF, 0x7F], "i1:i:2147483647" },                 // i: int32 max
        { [.. "I0"u8, (byte)'I', 0x00, 0x00, 0x00, 0x00], "I0:i:0" },                          // I: uint32 min
        { [.. "I1"u8, (byte)'I', 0xFF, 0xFF, 0xFF, 0xFF], "I1:i:4294967295" },                 // I: uint32 max
        { [.. "f0"u8, (byte)'f', 0x00, 0x00, 0xC0, 0x3F], "f0:f:1.5" },                        // f: 0x3FC00000 = 1.5
        { [.. "f1"u8, (byte)'f', 0xCD, 0xCC, 0xCC, 0xBD], "f1:f:-0.1" },                       // f: 0xBDCCCCCD = -0.1f
        { [.. "f2"u8, (byte)'f', 0x00, 0x00, 0x00, 0x00], "f2:f:0" },                          // f: +0
        { [.. "ZZ"u8, (byte)'Z', .. "hello world"u8, 0x00], "ZZ:Z:hello world" },             // Z: text with a space
        { [.. "Z0"u8, (byte)'Z', 0x00], "Z0:Z:" },                                             // Z: empty
        { [.. "HH"u8, (byte)'H', .. "1AE301"u8, 0x00], "HH:H:1AE301" },                        // H: hex digits
        { [.. "Bc"u8, (byte)'B', (byte)'c', 0x03, 0x00, 0x00, 0x00, 0x80, 0x00, 0x7F], "Bc:B:c,-128,0,127" },   // B:c, count 3
        { [.. "BC"u8, (byte)'B', (byte)'C', 0x02, 0x00, 0x00, 0x00, 0x01, 0x02], "BC:B:C,1,2" },                // B:C, count 2
        { [.. "BD"u8, (byte)'B', (byte)'C', 0x02, 0x00, 0x00, 0x00, 0x00, 0xFF], "BD:B:C,0,255" },              // B:C bounds
        { [.. "Bs"u8, (byte)'B', (byte)'s', 0x02, 0x00, 0x00, 0x00, 0x00, 0x80, 0xFF, 0x7F], "Bs:B:s,-32768,32767" }, // B:s bounds
        { [.. "BS"u8, (byte)'B', (byte)'S', 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF], "BS:B:S,0,65535" },      // B:S bounds
        { [.. "Bi"u8, (byte)'B', (byte)'i', 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0x7F], "Bi:B:i,-2147483648,2147483647" }, // B:i bounds
        { [.. "BI"u8, (byte)'B', (byte)'I', 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF], "BI:B:I,0,4294967295" },           // B:I bounds
        { [.. "Bf"u8, (byte)'B', (byte)'f', 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x10, 0xC0], "Bf:B:f,0.5,-2.25" },              // B:f
        { [.. "Ec"u8, (byte)'B', (byte)'c', 0x00, 0x00, 0x00, 0x00], "Ec:B:c" },               // B arrays with count 0, every subtype
        { [.. "EC"u8, (byte)'B', (byte)'C', 0x00, 0x00, 0x00, 0x00], "EC:B:C" },
        { [.. "Es"u8, (byte)'B', (byte)'s', 0x00, 0x00, 0x00, 0x00], "Es:B:s" },
        { [.. "ES"u8, (byte)'B', (byte)'S', 0x00, 0x00, 0x00, 0x00], "ES:B:S" },
        { [.. "Ei"u8, (byte)'B', (byte)'i', 0x00, 0x00, 0x00, 0x00], "Ei:B:i" },
        { [.. "EI"u8, (byte)'B', (byte)'I', 0x00, 0x00, 0x00, 0x00], "EI:B:I" },
        { [.. "Ef"u8, (byte)'B', (byte)'f', 0x00, 0x00, 0x00, 0x00], "Ef:B:f" },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void AppendAux_OneField_PrintsSamText(byte[] field, string expected)
    {
        Assert.Equal([expected], RecordLiterals.AuxTexts(WithAux(field)));
    }

    [Fact]
    public void AppendRecord_EveryFieldTogether_MatchesSamtoolsView()
    {
        byte[] aux = [.. Fields.SelectMany(row => row.Data.Item1)];
        string expected = "a\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\t" + string.Join('\t', Fields.Select(row => row.Data.Item2));
        byte[] data = [.. s_unmappedPrefix, .. aux];
        Assert.Equal(BamRecordError.None, BamRecord.TryCreate(data, 0, out BamRecord record));
        var text = new TextBuffer();

        SamFormatter.AppendRecord(record, new BamHeader(ReadOnlyMemory<byte>.Empty, []), text);

        Assert.Equal(expected, Encoding.ASCII.GetString(text.WrittenSpan));
        SamComparison.AssertSameLine(RecordLiterals.SamtoolsView(data, []), text.WrittenSpan, "every aux type");
    }

    [Theory]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'c', 0x80 }, 'c', -128L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'c', 0x7F }, 'c', 127L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'C', 0xFF }, 'C', 255L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'s', 0x00, 0x80 }, 's', -32768L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'s', 0xFF, 0x7F }, 's', 32767L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'S', 0xFF, 0xFF }, 'S', 65535L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'i', 0x00, 0x00, 0x00, 0x80 }, 'i', -2147483648L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'i', 0xFF, 0xFF, 0xFF, 0x7F }, 'i', 2147483647L)]
    [InlineData(new byte[] { (byte)'X', (byte)'X', (byte)'I', 0xFF, 0xFF, 0xFF, 0xFF }, 'I', 4294967295L)]
    public void GetInt64_IntegerBoundaryValue_WidensWithoutLoss(byte[] field, char type, long expected)
    {
        BamRecord record = WithAux(field);
        AuxEnumerator fields = record.AuxFields;
        Assert.True(fields.MoveNext());
        AuxField current = fields.Current;

        Assert.Equal("XX"u8.ToArray(), current.Tag.ToArray());
        Assert.Equal((byte)type, current.Type);
        Assert.True(current.IsInteger);
        Assert.Equal(expected, current.GetInt64());
        Assert.Equal(0, current.ArraySubtype);
        Assert.Equal(0, current.ArrayCount);
        Assert.Equal(field[3..], current.Value.ToArray());
        Assert.Equal((ushort)('X' | ('X' << 8)), current.TagKey);
        Assert.False(fields.MoveNext());
    }

    [Fact]
    public void Field_ScalarsStringsAndFloat_ExposeTypeAndValue()
    {
        BamRecord record = WithAux(
        [
            .. "XA"u8, (byte)'A', (byte)'q',                        // XA:A:q
            .. "XF"u8, (byte)'f', 0x00, 0x00, 0xC0, 0x3F,           // XF:f:1.5
            .. "XZ"u8, (byte)'Z', .. "text"u8, 0x00,                // XZ:Z:text
            .. "XH"u8, (byte)'H', .. "0A"u8, 0x00,                  // XH:H:0A
        ]);
        AuxEnumerator fields = record.AuxFields;

        Assert.True(fields.MoveNext());
        Assert.Equal(((byte)'A', false), (fields.Current.Type, fields.Current.IsInteger));
        Assert.Equal("q"u8.ToArray(), fields.Current.Value.ToArray());
        Assert.True(fields.MoveNext());
        Assert.Equal(((byte)'f', false), (fields.Current.Type, fields.Current.IsInteger));
        Assert.Equal(1.5f, fields.Current.GetSingle());
        Assert.True(fields.MoveNext());
        Assert.Equal((byte)'Z', fields.Current.Type);
        Assert.Equal("text"u8.ToArray(), fields.Current.Value.ToArray()); // without the NUL
        Assert.True(fields.MoveNext());
        Assert.Equal((byte)'H', fields.Current.Type);
        Assert.Equal("0A"u8.ToArray(), fields.Current.Value.ToArray());
        Assert.Equal((ushort)('X' | ('H' << 8)), fields.Current.TagKey);
        Assert.False(fields.MoveNext());
    }

    [Theory]
    [InlineData('c', new byte[] { 0x80, 0x00, 0x7F }, new long[] { -128, 0, 127 })]
    [InlineData('C', new byte[] { 0x00, 0x01, 0xFF }, new long[] { 0, 1, 255 })]
    [InlineData('s', new byte[] { 0x00, 0x80, 0xFF, 0x7F }, new long[] { -32768, 32767 })]
    [InlineData('S', new byte[] { 0x00, 0x00, 0xFF, 0xFF }, new long[] { 0, 65535 })]
    [InlineData('i', new byte[] { 0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0x7F }, new long[] { int.MinValue, int.MaxValue })]
    [InlineData('I', new byte[] { 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF }, new long[] { 0, uint.MaxValue })]
    [InlineData('C', new byte[0], new long[0])]
    public void GetArrayInt64_IntegerArray_ReturnsEveryElement(char subtype, byte[] elements, long[] expected)
    {
        byte[] count = BitConverter.GetBytes(expected.Length);
        BamRecord record = WithAux([.. "XB"u8, (byte)'B', (byte)subtype, .. count, .. elements]);
        AuxEnumerator fields = record.AuxFields;
        Assert.True(fields.MoveNext());
        AuxField field = fields.Current;

        Assert.Equal((byte)'B', field.Type);
        Assert.False(field.IsInteger);
        Assert.Equal((byte)subtype, field.ArraySubtype);
        Assert.Equal(expected.Length, field.ArrayCount);
        Assert.Equal(elements, field.Value.ToArray());
        var actual = new long[field.ArrayCount];
        for (int i = 0; i < actual.Length; i++)
        {
            actual[i] = field.GetArrayInt64(i);
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void GetArraySingle_FloatArray_ReturnsEveryElement()
    {
        BamRecord record = WithAux(
        [
            .. "XB"u8, (byte)'B', (byte)'f', 0x03, 0x00, 0x00, 0x00,  // XB:B:f, count 3
            0x00, 0x00, 0x00, 0x3F,                                   // 0.5
            0x00, 0x00, 0x10, 0xC0,                                   // -2.25
            0x00, 0x00, 0x80, 0x7F,                                   // +infinity
        ]);
        AuxEnumerator fields = record.AuxFields;
        Assert.True(fields.MoveNext());
        AuxField field = fields.Current;

        Assert.Equal(((byte)'f', 3), (field.ArraySubtype, field.ArrayCount));
        Assert.Equal(0.5f, field.GetArraySingle(0));
        Assert.Equal(-2.25f, field.GetArraySingle(1));
        Assert.Equal(float.PositiveInfinity, field.GetArraySingle(2));
    }

    [Fact]
    public void Validate_Empty_ReturnsNoneWithoutCg()
    {
        Assert.Equal(BamRecordError.None, AuxDecoder.Validate([], out int cgOffset, out int failedAt));
        Assert.Equal(-1, cgOffset);
        Assert.Equal(-1, failedAt);
    }

    [Fact]
    public void Validate_EveryFieldTogether_ReturnsNone()
    {
        byte[] aux = [.. Fields.SelectMany(row => row.Data.Item1)];

        Assert.Equal(BamRecordError.None, AuxDecoder.Validate(aux, out int cgOffset, out int failedAt));
        Assert.Equal(-1, cgOffset);
        Assert.Equal(-1, failedAt);
    }

    /// <summary>A valid NM:C:1 (4 bytes) followed by a bad field, so the failure is reported at offset 4.</summary>
    public static TheoryData<byte[], BamRecordError> BadSecondFields => new()
    {
        { [.. "XY"u8, (byte)'s', 0x01], BamRecordError.AuxTruncated },                         // int16 with 1 byte
        { [.. "XY"u8, (byte)'i', 0x01, 0x02, 0x03], BamRecordError.AuxTruncated },             // int32 with 3 bytes
        { [.. "XY"u8, (byte)'f', 0x01, 0x02, 0x03], BamRecordError.AuxTruncated },             // float with 3 bytes
        { [.. "XY"u8, (byte)'B', (byte)'C', 0x01, 0x00, 0x00], BamRecordError.AuxTruncated },  // B header: count cut short
        { [.. "XY"u8, (byte)'Z', .. "abc"u8], BamRecordError.AuxStringNotTerminated },        // Z without NUL
        { [.. "XY"u8, (byte)'H', .. "0A"u8], BamRecordError.AuxStringNotTerminated },         // H without NUL
        { [.. "XY"u8, (byte)'q', 0x00], BamRecordError.AuxType },                              // unknown type
        { [.. "XY"u8, (byte)'b', 0x00], BamRecordError.AuxType },                              // types are case-sensitive
        { [.. "XY"u8, (byte)'B', (byte)'A', 0x00, 0x00, 0x00, 0x00], BamRecordError.AuxArrayType }, // B:A is not an array type
        { [.. "XY"u8, (byte)'B', (byte)'Z', 0x00, 0x00, 0x00, 0x00], BamRecordError.AuxArrayType },
        { [.. "XY"u8, (byte)'B', (byte)'C', 0x02, 0x00, 0x00, 0x00, 0x01], BamRecordError.AuxArrayOverrun },   // 2 declared, 1 present
        { [.. "XY"u8, (byte)'B', (byte)'I', 0xFF, 0xFF, 0xFF, 0xFF], BamRecordError.AuxArrayOverrun },         // uint.MaxValue × 4 bytes
        { [.. "XY"u8, (byte)'B', (byte)'s', 0x01, 0x00, 0x00, 0x00, 0x01], BamRecordError.AuxArrayOverrun },   // half an int16
    };

    [Theory]
    [InlineData(new byte[] { (byte)'X' })]                       // half a tag
    [InlineData(new byte[] { (byte)'X', (byte)'Y' })]            // a tag with no type
    [InlineData(new byte[] { (byte)'X', (byte)'Y', (byte)'A' })] // an A field without its byte
    [InlineData(new byte[] { (byte)'X', (byte)'Y', (byte)'Z' })] // a Z field without even its NUL
    [InlineData(new byte[] { (byte)'X', (byte)'Y', (byte)'B' })] // a B field without its subtype
    public void Validate_TailShorterThanAnyField_IgnoredAsHtslibDoes(byte[] tail)
    {
        // htslib's sam_format1 reads fields while 4 bytes remain: samtools view prints NM:i:1 and nothing else.
        byte[] aux = [.. "NM"u8, (byte)'C', 0x01, .. tail];

        Assert.Equal(BamRecordError.None, AuxDecoder.Validate(aux, out _, out int failedAt));
        Assert.Equal(-1, failedAt);
    }

    [Theory]
    [MemberData(nameof(BadSecondFields))]
    public void Validate_BadSecondField_ReportsErrorAtItsOffset(byte[] bad, BamRecordError expected)
    {
        byte[] aux = [.. "NM"u8, (byte)'C', 0x01, .. bad];

        Assert.Equal(expected, AuxDecoder.Validate(aux, out _, out int failedAt));
        Assert.Equal(4, failedAt);
    }

    [Fact]
    public void Validate_CgBI_ReturnsItsOffset()
    {
        byte[] aux =
        [
            .. "NM"u8, (byte)'C', 0x01,                                          // 0: NM:C:1
            .. "CG"u8, (byte)'B', (byte)'I', 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, // 4: CG:B:I,64
        ];

        Assert.Equal(BamRecordError.None, AuxDecoder.Validate(aux, out int cgOffset, out _));
        Assert.Equal(4, cgOffset);
    }

    [Theory]
    [InlineData((byte)'i', new byte[] { 0x40, 0x00, 0x00, 0x00 }, 0)] // CG:B:i,64 counts, as in htslib
    [InlineData((byte)'S', new byte[] { 0x40, 0x00 }, -1)]             // CG:B:S,64
    [InlineData((byte)'C', new byte[] { 0x40 }, -1)]                   // CG:B:C,64
    [InlineData((byte)'f', new byte[] { 0x00, 0x00, 0x80, 0x42 }, -1)] // CG:B:f,64
    public void Validate_CgArraySubtype_OnlyInt32ElementsCount(byte subtype, byte[] element, int expectedOffset)
    {
        byte[] aux = [.. "CG"u8, (byte)'B', subtype, 0x01, 0x00, 0x00, 0x00, .. element];

        Assert.Equal(BamRecordError.None, AuxDecoder.Validate(aux, out int cgOffset, out _));
        Assert.Equal(expectedOffset, cgOffset);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'C', (byte)'G', (byte)'Z', (byte)'x', 0x00 })]                                           // CG:Z:x
    [InlineData(new byte[] { (byte)'C', (byte)'G', (byte)'B', (byte)'S', 0x01, 0x00, 0x00, 0x00, 0x40, 0x00 })]             // CG:B:S,64
    public void Validate_CgAfterAnEarlierCg_IsIgnoredAsHtslibUsesTheFirst(byte[] firstCg)
    {
        byte[] aux = [.. firstCg, .. "CG"u8, (byte)'B', (byte)'I', 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00];

        Assert.Equal(BamRecordError.None, AuxDecoder.Validate(aux, out int cgOffset, out _));
        Assert.Equal(-1, cgOffset);
    }

    [Theory]
    [InlineData('A', 1, 0)]
    [InlineData('c', 1, 1)]
    [InlineData('C', 1, 1)]
    [InlineData('s', 2, 2)]
    [InlineData('S', 2, 2)]
    [InlineData('i', 4, 4)]
    [InlineData('I', 4, 4)]
    [InlineData('f', 4, 4)]
    [InlineData('Z', 0, 0)]
    [InlineData('H', 0, 0)]
    [InlineData('B', 0, 0)]
    [InlineData('d', 0, 0)]
    public void ScalarSizeAndElementSize_EachType_AreTheStoredSizes(char type, int scalarSize, int elementSize)
    {
        Assert.Equal(scalarSize, AuxDecoder.ScalarSize((byte)type));
        Assert.Equal(elementSize, AuxDecoder.ElementSize((byte)type));
        Assert.Equal("cCsSiI".Contains(type, StringComparison.Ordinal), AuxDecoder.IsIntegerType((byte)type));
    }

    [Theory]
    [InlineData('f')]
    [InlineData('Z')]
    [InlineData('A')]
    public void ReadInteger_NonIntegerType_Throws(char type)
    {
        Assert.Throws<InvalidOperationException>(() => AuxDecoder.ReadInteger((byte)type, [0, 0, 0, 0]));
    }

    private static BamRecord WithAux(byte[] aux)
    {
        byte[] data = [.. s_unmappedPrefix, .. aux];
        Assert.Equal(BamRecordError.None, BamRecord.TryCreate(data, referenceCount: 0, out BamRecord record));
        return record;
    }
}
