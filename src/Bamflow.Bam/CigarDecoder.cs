using System.Buffers.Binary;
using System.Buffers.Text;

namespace Bamflow.Bam;

/// <summary>Decodes BAM CIGAR operations (SAMv1 §4.2: uint32 op_len &lt;&lt; 4 | op, op in 0..8 = "MIDNSHP=X").</summary>
public static class CigarDecoder
{
    private const int OpMask = 0xF;
    private const int LengthShift = 4;
    private const int MaxOp = 8;

    // Bit i set when op i consumes the reference: M(0) D(2) N(3) =(7) X(8).
    private const int ConsumesReference = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 7) | (1 << 8);

    // Bit i set when op i consumes the query (SEQ): M(0) I(1) S(4) =(7) X(8).
    private const int ConsumesQuery = (1 << 0) | (1 << 1) | (1 << 4) | (1 << 7) | (1 << 8);

    /// <summary>Whether every operation code in <paramref name="cigar"/> is one of the nine defined.</summary>
    public static bool AreValid(ReadOnlySpan<byte> cigar) => TryGetQueryLength(cigar, out _);

    /// <summary>
    /// Checks every operation code is one of the nine defined and sums the lengths of those that consume the
    /// query (M/I/S/=/X): what htslib's bam_cigar2rqlens compares with l_seq.
    /// </summary>
    public static bool TryGetQueryLength(ReadOnlySpan<byte> cigar, out long queryLength)
    {
        long length = 0;
        for (int i = 0; i + 4 <= cigar.Length; i += 4)
        {
            uint op = BinaryPrimitives.ReadUInt32LittleEndian(cigar[i..]);
            int code = (int)(op & OpMask);
            if (code > MaxOp)
            {
                queryLength = 0;
                return false;
            }

            if (((ConsumesQuery >> code) & 1) != 0)
            {
                length += op >> LengthShift;
            }
        }

        queryLength = length;
        return true;
    }

    /// <summary>The reference length the CIGAR spans: the sum of M/D/N/=/X operation lengths.</summary>
    public static long ReferenceLength(ReadOnlySpan<byte> cigar)
    {
        long length = 0;
        for (int i = 0; i + 4 <= cigar.Length; i += 4)
        {
            uint op = BinaryPrimitives.ReadUInt32LittleEndian(cigar[i..]);
            if (((ConsumesReference >> (int)(op & OpMask)) & 1) != 0)
            {
                length += op >> LengthShift;
            }
        }

        return length;
    }

    /// <summary>The SAM text length of the CIGAR (for reserving space).</summary>
    public static int TextLength(ReadOnlySpan<byte> cigar)
    {
        int length = 0;
        for (int i = 0; i + 4 <= cigar.Length; i += 4)
        {
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(cigar[i..]) >> LengthShift;
            length += 1 + (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : 9);
        }

        return length;
    }

    /// <summary>Writes the CIGAR as SAM text (e.g. <c>10M2I5D</c>) into <paramref name="destination"/>; returns bytes written.</summary>
    /// <remarks><paramref name="destination"/> must hold <see cref="TextLength"/> bytes.</remarks>
    public static int Format(ReadOnlySpan<byte> cigar, Span<byte> destination)
    {
        ReadOnlySpan<byte> ops = BamRecord.CigarOperations;
        int written = 0;
        for (int i = 0; i + 4 <= cigar.Length; i += 4)
        {
            uint op = BinaryPrimitives.ReadUInt32LittleEndian(cigar[i..]);
            Utf8Formatter.TryFormat(op >> LengthShift, destination[written..], out int digits);
            written += digits;
            destination[written++] = ops[(int)(op & OpMask)];
        }

        return written;
    }

    /// <summary>Appends the CIGAR as SAM text to <paramref name="output"/>.</summary>
    public static void Append(ReadOnlySpan<byte> cigar, TextBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = TextLength(cigar);
        output.Advance(Format(cigar, output.GetSpan(length)));
    }
}
