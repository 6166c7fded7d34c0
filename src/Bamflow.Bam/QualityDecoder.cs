using System.Runtime.Intrinsics;

namespace Bamflow.Bam;

/// <summary>Turns BAM base qualities (raw Phred) into SAM's Phred+33 text, vectorised with a scalar tail.</summary>
public static class QualityDecoder
{
    private const byte Offset = 33;

    /// <summary>Writes <paramref name="quality"/> + 33 into <paramref name="destination"/>.</summary>
    public static void ToPhred33(ReadOnlySpan<byte> quality, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, quality.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<byte> offset = Vector256.Create(Offset);
            for (; i + Vector256<byte>.Count <= quality.Length; i += Vector256<byte>.Count)
            {
                (Vector256.Create(quality.Slice(i, Vector256<byte>.Count)) + offset).CopyTo(destination[i..]);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<byte> offset = Vector128.Create(Offset);
            for (; i + Vector128<byte>.Count <= quality.Length; i += Vector128<byte>.Count)
            {
                (Vector128.Create(quality.Slice(i, Vector128<byte>.Count)) + offset).CopyTo(destination[i..]);
            }
        }

        ToPhred33Scalar(quality[i..], destination[i..]);
    }

    /// <summary>The scalar reference implementation (used for tails, and by tests as the oracle for the vector path).</summary>
    public static void ToPhred33Scalar(ReadOnlySpan<byte> quality, Span<byte> destination)
    {
        for (int i = 0; i < quality.Length; i++)
        {
            destination[i] = (byte)(quality[i] + Offset);
        }
    }

    /// <summary>Appends <paramref name="quality"/> + 33 to <paramref name="output"/>.</summary>
    public static void Append(ReadOnlySpan<byte> quality, TextBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ToPhred33(quality, output.GetSpan(quality.Length));
        output.Advance(quality.Length);
    }
}
