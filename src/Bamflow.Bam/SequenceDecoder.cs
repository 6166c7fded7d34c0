using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Bamflow.Bam;

/// <summary>Decodes BAM 4-bit packed sequences (SAMv1 §4.2.3: "=ACMGRSVTWYHKDBN"[code], high nibble first).</summary>
public static class SequenceDecoder
{
    /// <summary>The 16 base codes in order.</summary>
    public static ReadOnlySpan<byte> Alphabet => "=ACMGRSVTWYHKDBN"u8;

    // One packed byte → its two bases as a little-endian ushort (first base in the low byte).
    private static readonly ushort[] s_pairs = BuildPairs();

    /// <summary>
    /// Writes <paramref name="length"/> bases from <paramref name="packed"/> as ASCII into <paramref name="destination"/>.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> packed, int length, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, destination.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((length + 1) >> 1, packed.Length);
        int full = length >> 1;
        int done = 0;
        if (Ssse3.IsSupported && full >= 16)
        {
            // 16 packed bytes → 32 bases: look both nibbles up in the alphabet with a byte shuffle, then interleave.
            Vector128<byte> alphabet = Vector128.Create(Alphabet);
            Vector128<byte> low4 = Vector128.Create((byte)0x0F);
            for (; done + 16 <= full; done += 16)
            {
                Vector128<byte> codes = Vector128.Create(packed.Slice(done, 16));
                Vector128<byte> first = Ssse3.Shuffle(alphabet, Vector128.ShiftRightLogical(codes.AsUInt16(), 4).AsByte() & low4);
                Vector128<byte> second = Ssse3.Shuffle(alphabet, codes & low4);
                Sse2.UnpackLow(first, second).CopyTo(destination.Slice(done * 2, 16));
                Sse2.UnpackHigh(first, second).CopyTo(destination.Slice((done * 2) + 16, 16));
            }
        }

        Span<ushort> pairs = MemoryMarshal.Cast<byte, ushort>(destination[(done * 2)..(full * 2)]);
        ReadOnlySpan<byte> rest = packed[done..];
        ushort[] table = s_pairs;
        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i] = table[rest[i]];
        }

        if ((length & 1) != 0)
        {
            destination[length - 1] = Alphabet[packed[full] >> 4];
        }
    }

    /// <summary>Appends <paramref name="length"/> decoded bases to <paramref name="output"/>.</summary>
    public static void Append(ReadOnlySpan<byte> packed, int length, TextBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Decode(packed, length, output.GetSpan(length));
        output.Advance(length);
    }

    private static ushort[] BuildPairs()
    {
        var pairs = new ushort[256];
        ReadOnlySpan<byte> alphabet = Alphabet;
        for (int i = 0; i < 256; i++)
        {
            byte first = alphabet[i >> 4], second = alphabet[i & 0xF];
            pairs[i] = BitConverter.IsLittleEndian ? (ushort)(first | (second << 8)) : (ushort)((first << 8) | second);
        }

        return pairs;
    }
}
