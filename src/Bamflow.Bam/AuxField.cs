using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Bamflow.Bam;

/// <summary>
/// One optional field of a record (SAMv1 §4.2.4), a view over the record's bytes: TAG, the value type
/// (<c>A c C s S i I f Z H B</c>) and the value. Only produced from validated records. It is one span over the
/// whole stored field (tag to end), so it is cheap to pass around; the parts are read from it on demand.
/// </summary>
public readonly ref struct AuxField
{
    private readonly ReadOnlySpan<byte> _field;

    /// <summary>Wraps one validated field: <paramref name="field"/> runs from its tag to its last byte (the NUL of Z/H).</summary>
    internal AuxField(ReadOnlySpan<byte> field) => _field = field;

    /// <summary>The two tag characters.</summary>
    public ReadOnlySpan<byte> Tag => _field[..2];

    /// <summary>The stored value type: one of <c>A c C s S i I f Z H B</c>.</summary>
    public byte Type => _field[2];

    /// <summary>For <c>B</c> arrays, the element type (<c>c C s S i I f</c>); otherwise 0.</summary>
    public byte ArraySubtype => Type == (byte)'B' ? _field[3] : (byte)0;

    /// <summary>For <c>B</c> arrays, the number of elements; otherwise 0.</summary>
    public int ArrayCount => Type == (byte)'B' ? (int)BinaryPrimitives.ReadUInt32LittleEndian(_field[4..]) : 0;

    /// <summary>
    /// The value's bytes: the little-endian scalar for <c>A c C s S i I f</c>, the text without its NUL for
    /// <c>Z H</c>, the elements for <c>B</c>.
    /// </summary>
    public ReadOnlySpan<byte> Value => Type switch
    {
        (byte)'B' => _field[8..],
        (byte)'Z' or (byte)'H' => _field[3..^1],
        _ => _field[3..],
    };

    /// <summary>The tag as a 16-bit key (first character in the low byte), handy for dictionaries.</summary>
    public ushort TagKey => BinaryPrimitives.ReadUInt16LittleEndian(_field);

    /// <summary>Whether the value is one of the integer types <c>c C s S i I</c>.</summary>
    public bool IsInteger => AuxDecoder.IsIntegerType(Type);

    /// <summary>The value of an integer field (<c>c C s S i I</c>) widened to 64 bits.</summary>
    public long GetInt64() => AuxDecoder.ReadInteger(Type, _field[3..]);

    /// <summary>The value of an <c>f</c> field.</summary>
    public float GetSingle() => BinaryPrimitives.ReadSingleLittleEndian(_field[3..]);

    /// <summary>Element <paramref name="index"/> of an integer <c>B</c> array, widened to 64 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long GetArrayInt64(int index)
    {
        int size = AuxDecoder.ElementSize(ArraySubtype);
        return AuxDecoder.ReadInteger(ArraySubtype, Value.Slice(index * size, size));
    }

    /// <summary>Element <paramref name="index"/> of a <c>B:f</c> array.</summary>
    public float GetArraySingle(int index) => BinaryPrimitives.ReadSingleLittleEndian(Value[(index * 4)..]);
}

/// <summary>Enumerates a record's aux fields in stored order. Obtain it from <see cref="BamRecord.AuxFields"/>.</summary>
public ref struct AuxEnumerator
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _skipOffset;
    private int _start;
    private int _end;

    internal AuxEnumerator(ReadOnlySpan<byte> data, int skipOffset)
    {
        _data = data;
        _skipOffset = skipOffset;
        _start = 0;
        _end = 0;
    }

    /// <summary>The current field.</summary>
    public readonly AuxField Current => new(_data[_start.._end]);

    /// <summary>Returns this enumerator (for foreach).</summary>
    public readonly AuxEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MoveNext()
    {
        if (_data.Length - _end < AuxDecoder.MinFieldLength)
        {
            return false;
        }

        _start = _end;
        _end += AuxDecoder.FieldLength(_data[_start..]);
        if (_start == _skipOffset)
        {
            // The one hidden field (a CG tag that supplied the CIGAR).
            if (_data.Length - _end < AuxDecoder.MinFieldLength)
            {
                return false;
            }

            _start = _end;
            _end += AuxDecoder.FieldLength(_data[_start..]);
        }

        return true;
    }
}
