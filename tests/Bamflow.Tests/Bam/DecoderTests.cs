using System.Buffers.Binary;
using System.Text;
using Bamflow.Bam;

namespace Bamflow.Tests.Bam;

/// <summary>The field decoders: <see cref="CigarDecoder"/>, <see cref="SequenceDecoder"/>, <see cref="QualityDecoder"/>.</summary>
public sealed class DecoderTests
{
    private const uint MaxOpLength = (1u << 28) - 1; // SAMv1 §4.2: op_len is 28 bits

    // 1M 2I 3D 4N 5S 6H 7P 8= 9X: every operation, codes 0..8 in order.
    private static readonly byte[] s_allOps =
    [
        0x10, 0x00, 0x00, 0x00,             // 1 << 4 | 0 (M)
        0x21, 0x00, 0x00, 0x00,             // 2 << 4 | 1 (I)
        0x32, 0x00, 0x00, 0x00,             // 3 << 4 | 2 (D)
        0x43, 0x00, 0x00, 0x00,             // 4 << 4 | 3 (N)
        0x54, 0x00, 0x00, 0x00,             // 5 << 4 | 4 (S)
        0x65, 0x00, 0x00, 0x00,             // 6 << 4 | 5 (H)
        0x76, 0x00, 0x00, 0x00,             // 7 << 4 | 6 (P)
        0x87, 0x00, 0x00, 0x00,             // 8 << 4 | 7 (=)
        0x98, 0x00, 0x00, 0x00,             // 9 << 4 | 8 (X)
    ];

    [Fact]
    public void Format_AllNineOperations_WritesSamText()
    {
        byte[] text = new byte[CigarDecoder.TextLength(s_allOps)];

        int written = CigarDecoder.Format(s_allOps, text);

        Assert.Equal("1M2I3D4N5S6H7P8=9X", Encoding.ASCII.GetString(text, 0, written));
        Assert.Equal(18, written);
        Assert.Equal(18, text.Length);
    }

    [Fact]
    public void Append_AllNineOperations_AppendsAfterExistingText()
    {
        var output = new TextBuffer(16);
        output.Append("cigar="u8);

        CigarDecoder.Append(s_allOps, output);

        Assert.Equal("cigar=1M2I3D4N5S6H7P8=9X", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void ReferenceLength_AllNineOperations_SumsOnlyMDNEqualsX()
    {
        Assert.Equal(1 + 3 + 4 + 8 + 9, CigarDecoder.ReferenceLength(s_allOps));
    }

    [Theory]
    [InlineData(0, 'M', true)]
    [InlineData(1, 'I', false)]
    [InlineData(2, 'D', true)]
    [InlineData(3, 'N', true)]
    [InlineData(4, 'S', false)]
    [InlineData(5, 'H', false)]
    [InlineData(6, 'P', false)]
    [InlineData(7, '=', true)]
    [InlineData(8, 'X', true)]
    public void Decoders_EachOperationAtMaximumLength_FormatAndCountIt(int code, char letter, bool consumesReference)
    {
        byte[] cigar = Ops((MaxOpLength, code));

        Assert.True(CigarDecoder.AreValid(cigar));
        Assert.Equal(consumesReference ? MaxOpLength : 0, CigarDecoder.ReferenceLength(cigar));
        Assert.Equal($"{MaxOpLength}{letter}", FormatToString(cigar));
        Assert.Equal(10, CigarDecoder.TextLength(cigar)); // 268435455 is 9 digits + the letter
        Assert.Equal((byte)letter, BamRecord.CigarOperations[code]);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(9u)]
    [InlineData(10u)]
    [InlineData(99u)]
    [InlineData(100u)]
    [InlineData(999u)]
    [InlineData(1000u)]
    [InlineData(9999u)]
    [InlineData(10000u)]
    [InlineData(99999u)]
    [InlineData(100000u)]
    [InlineData(999999u)]
    [InlineData(1000000u)]
    [InlineData(9999999u)]
    [InlineData(10000000u)]
    [InlineData(99999999u)]
    [InlineData(100000000u)]
    [InlineData(MaxOpLength)]
    public void TextLength_EveryDigitCount_EqualsFormattedLength(uint length)
    {
        byte[] cigar = Ops((length, 0), (length, 7));
        string expected = $"{length}M{length}=";

        Assert.Equal(expected.Length, CigarDecoder.TextLength(cigar));
        Assert.Equal(expected, FormatToString(cigar));
    }

    [Fact]
    public void ReferenceLength_TenMaximumLengthMatches_ExceedsInt32()
    {
        byte[] cigar = Ops([.. Enumerable.Repeat((MaxOpLength, 0), 10)]);

        Assert.Equal(10L * MaxOpLength, CigarDecoder.ReferenceLength(cigar));
        Assert.True(CigarDecoder.ReferenceLength(cigar) > int.MaxValue);
    }

    [Fact]
    public void Decoders_EmptyCigar_WriteNothing()
    {
        Assert.True(CigarDecoder.AreValid([]));
        Assert.Equal(0, CigarDecoder.TextLength([]));
        Assert.Equal(0, CigarDecoder.ReferenceLength([]));
        Assert.Equal(0, CigarDecoder.Format([], []));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(15)]
    public void AreValid_UndefinedOperationCode_IsFalse(int code)
    {
        Assert.False(CigarDecoder.AreValid(Ops((5, 0), (5, code))));
    }

    [Fact]
    public void Decode_AllSixteenCodes_ProducesAlphabetInOrder()
    {
        byte[] packed = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]; // codes 0..15, high nibble first
        byte[] bases = new byte[16];

        SequenceDecoder.Decode(packed, 16, bases);

        Assert.Equal("=ACMGRSVTWYHKDBN", Encoding.ASCII.GetString(bases));
        Assert.Equal("=ACMGRSVTWYHKDBN"u8.ToArray(), SequenceDecoder.Alphabet.ToArray());
    }

    [Fact]
    public void Decode_EveryPackedByte_GivesHighThenLowNibble()
    {
        const string Alphabet = "=ACMGRSVTWYHKDBN";
        byte[] packed = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];
        byte[] bases = new byte[512];

        SequenceDecoder.Decode(packed, 512, bases);

        for (int i = 0; i < 256; i++)
        {
            Assert.True(bases[2 * i] == Alphabet[i >> 4] && bases[(2 * i) + 1] == Alphabet[i & 0xF], $"byte 0x{i:X2}");
        }
    }

    [Fact]
    public void Decode_OddAndEvenLengths_MatchNaiveDecoderAndWriteNoFurther()
    {
        var random = new Random(1234);
        for (int length = 0; length <= 80; length++)
        {
            byte[] packed = new byte[(length + 1) / 2];
            random.NextBytes(packed);
            byte[] destination = new byte[length + 8];
            destination.AsSpan().Fill((byte)'#');

            SequenceDecoder.Decode(packed, length, destination);

            Assert.Equal(NaiveDecode(packed, length), Encoding.ASCII.GetString(destination, 0, length));
            Assert.True(destination.AsSpan(length).IndexOfAnyExcept((byte)'#') < 0, $"length {length}: wrote past the end");
        }
    }

    [Fact]
    public void Decode_OddLength_IgnoresTheLastLowNibble()
    {
        byte[] bases = new byte[3];

        SequenceDecoder.Decode([0x12, 0x4F], 3, bases); // A C, G + padding nibble 15

        Assert.Equal("ACG", Encoding.ASCII.GetString(bases));
    }

    [Fact]
    public void Append_Sequence_AppendsAfterExistingText()
    {
        var output = new TextBuffer(16);
        output.Append("seq="u8);

        SequenceDecoder.Append([0x12, 0x48, 0xF0], 5, output);

        Assert.Equal("seq=ACGTN", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Decode_DestinationOrPackedTooShort_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceDecoder.Decode([0x12, 0x48], 4, new byte[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceDecoder.Decode([0x12, 0x48], 5, new byte[5]));
    }

    [Fact]
    public void ToPhred33_RandomDataOfEveryLength_EqualsScalarPath()
    {
        var random = new Random(42);
        for (int length = 0; length <= 200; length++)
        {
            byte[] quality = new byte[length];
            random.NextBytes(quality); // the whole byte range: both paths wrap the same way
            byte[] vector = new byte[length], scalar = new byte[length];

            QualityDecoder.ToPhred33(quality, vector);
            QualityDecoder.ToPhred33Scalar(quality, scalar);

            Assert.True(vector.AsSpan().SequenceEqual(scalar), $"length {length}: vector path differs from scalar");
            Assert.True(scalar.AsSpan().SequenceEqual(quality.Select(q => (byte)(q + 33)).ToArray()), $"length {length}: scalar path is not q + 33");
        }
    }

    [Fact]
    public void ToPhred33_UnalignedSlicesIntoLargerDestination_WritesOnlyTheLength()
    {
        var random = new Random(7);
        byte[] source = new byte[300];
        random.NextBytes(source);
        for (int start = 0; start < 4; start++)
        {
            for (int length = 0; length <= 100; length += 3)
            {
                byte[] destination = new byte[length + 40];
                destination.AsSpan().Fill(0xEE);
                byte[] expected = new byte[length];

                QualityDecoder.ToPhred33(source.AsSpan(start, length), destination.AsSpan(1));
                QualityDecoder.ToPhred33Scalar(source.AsSpan(start, length), expected);

                Assert.Equal(0xEE, destination[0]);
                Assert.True(destination.AsSpan(1, length).SequenceEqual(expected), $"start {start}, length {length}");
                Assert.True(destination.AsSpan(1 + length).IndexOfAnyExcept((byte)0xEE) < 0, $"start {start}, length {length}: wrote past the end");
            }
        }
    }

    [Fact]
    public void ToPhred33_DestinationTooShort_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QualityDecoder.ToPhred33(new byte[40], new byte[39]));
    }

    [Fact]
    public void Append_Quality_AppendsPhred33Text()
    {
        var output = new TextBuffer(16);
        byte[] quality = [.. Enumerable.Range(0, 94).Select(q => (byte)q)]; // Phred 0..93: '!'..'~'

        QualityDecoder.Append(quality, output);

        Assert.Equal(string.Concat(Enumerable.Range(33, 94).Select(c => (char)c)), Encoding.ASCII.GetString(output.WrittenSpan));
    }

    /// <summary>CIGAR bytes from (length, operation code) pairs.</summary>
    private static byte[] Ops(params (uint Length, int Code)[] ops)
    {
        byte[] cigar = new byte[4 * ops.Length];
        for (int i = 0; i < ops.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(cigar.AsSpan(4 * i), (ops[i].Length << 4) | (uint)ops[i].Code);
        }

        return cigar;
    }

    private static string FormatToString(byte[] cigar)
    {
        byte[] text = new byte[CigarDecoder.TextLength(cigar)];
        int written = CigarDecoder.Format(cigar, text);
        Assert.Equal(text.Length, written);
        return Encoding.ASCII.GetString(text);
    }

    private static string NaiveDecode(byte[] packed, int length)
    {
        const string Alphabet = "=ACMGRSVTWYHKDBN";
        var text = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            int code = (i % 2 == 0) ? packed[i / 2] >> 4 : packed[i / 2] & 0xF;
            text.Append(Alphabet[code]);
        }

        return text.ToString();
    }
}
