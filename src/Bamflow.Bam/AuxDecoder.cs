using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Bamflow.Bam;

/// <summary>Decodes and validates aux fields (SAMv1 §4.2.4).</summary>
public static class AuxDecoder
{
    /// <summary>Size in bytes of a scalar of type <paramref name="type"/> (<c>A c C s S i I f</c>), or 0 for any other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ScalarSize(byte type) => type switch
    {
        (byte)'A' or (byte)'c' or (byte)'C' => 1,
        (byte)'s' or (byte)'S' => 2,
        (byte)'i' or (byte)'I' or (byte)'f' => 4,
        _ => 0,
    };

    /// <summary>Size in bytes of a <c>B</c> array element of subtype <paramref name="subtype"/>, or 0 if it is not one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ElementSize(byte subtype) => subtype switch
    {
        (byte)'c' or (byte)'C' => 1,
        (byte)'s' or (byte)'S' => 2,
        (byte)'i' or (byte)'I' or (byte)'f' => 4,
        _ => 0,
    };

    /// <summary>Whether <paramref name="type"/> is one of the integer types <c>c C s S i I</c>.</summary>
    public static bool IsIntegerType(byte type) => type is (byte)'c' or (byte)'C' or (byte)'s' or (byte)'S' or (byte)'i' or (byte)'I';

    /// <summary>Reads a little-endian integer of type <c>c C s S i I</c>, widened to 64 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ReadInteger(byte type, ReadOnlySpan<byte> value) => type switch
    {
        (byte)'c' => (sbyte)value[0],
        (byte)'C' => value[0],
        (byte)'s' => BinaryPrimitives.ReadInt16LittleEndian(value),
        (byte)'S' => BinaryPrimitives.ReadUInt16LittleEndian(value),
        (byte)'i' => BinaryPrimitives.ReadInt32LittleEndian(value),
        (byte)'I' => BinaryPrimitives.ReadUInt32LittleEndian(value),
        _ => throw new InvalidOperationException($"aux type '{(char)type}' is not an integer type"),
    };

    /// <summary>
    /// The fewest bytes that can hold a field (tag, type and a one-byte value, or an empty Z string's NUL). Fewer
    /// left at the end of a record are not a field: htslib's sam_format1 stops there and prints the record without
    /// them, and Bamflow does the same (<see cref="AuxEnumerator"/> never reaches them).
    /// </summary>
    public const int MinFieldLength = 4;

    /// <summary>
    /// Checks the aux fields in <paramref name="aux"/> all lie inside it and have known types; a tail of fewer than
    /// <see cref="MinFieldLength"/> bytes is ignored, as htslib ignores it. On success also returns where a
    /// <c>CG:B:I</c> field is (offset of its tag, or -1), for the long-CIGAR rule.
    /// </summary>
    public static BamRecordError Validate(ReadOnlySpan<byte> aux, out int cgOffset, out int failedAt)
    {
        cgOffset = -1;
        bool sawCg = false;
        int offset = 0;
        while (aux.Length - offset >= MinFieldLength)
        {
            failedAt = offset;
            byte type = aux[offset + 2];
            int valueStart = offset + 3;
            if (!sawCg && type != (byte)'B' && aux[offset] == (byte)'C' && aux[offset + 1] == (byte)'G')
            {
                sawCg = true;
            }

            int size = ScalarSize(type);
            if (size > 0)
            {
                if (aux.Length - valueStart < size)
                {
                    return BamRecordError.AuxTruncated;
                }

                offset = valueStart + size;
                continue;
            }

            switch (type)
            {
                case (byte)'Z':
                case (byte)'H':
                    int nul = aux[valueStart..].IndexOf((byte)0);
                    if (nul < 0)
                    {
                        return BamRecordError.AuxStringNotTerminated;
                    }

                    offset = valueStart + nul + 1;
                    break;
                case (byte)'B':
                    if (aux.Length - valueStart < 5)
                    {
                        return BamRecordError.AuxTruncated;
                    }

                    byte subtype = aux[valueStart];
                    int elementSize = ElementSize(subtype);
                    if (elementSize == 0)
                    {
                        return BamRecordError.AuxArrayType;
                    }

                    uint count = BinaryPrimitives.ReadUInt32LittleEndian(aux[(valueStart + 1)..]);
                    long end = valueStart + 5 + ((long)count * elementSize);
                    if (end > aux.Length)
                    {
                        return BamRecordError.AuxArrayOverrun;
                    }

                    // htslib looks at the first CG field only, and uses it only if it is B:I.
                    if (!sawCg && aux[offset] == (byte)'C' && aux[offset + 1] == (byte)'G')
                    {
                        sawCg = true;
                        cgOffset = subtype is (byte)'I' or (byte)'i' ? offset : -1;
                    }

                    offset = (int)end;
                    break;
                default:
                    return BamRecordError.AuxType;
            }
        }

        failedAt = -1;
        return BamRecordError.None;
    }

    /// <summary>The length in bytes of the field at the start of validated aux data (tag to last byte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int FieldLength(ReadOnlySpan<byte> data)
    {
        byte type = data[2];
        int size = ScalarSize(type);
        if (size > 0)
        {
            return 3 + size;
        }

        if (type == (byte)'B')
        {
            return 8 + ((int)BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) * ElementSize(data[3]));
        }

        // Z or H: up to and including the NUL.
        return 3 + data[3..].IndexOf((byte)0) + 1;
    }
}
