using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Bamflow.Bam;

/// <summary>
/// One optional field of a record (SAMv1 §4.2.4), a view over the record's bytes: TAG, the value type
/// (<c>A c C s S i I f Z H B</c>) and the value. Only produced from validated records.
/// </summary>
public readonly ref struct AuxField
{
    internal AuxField(ReadOnlySpan<byte> tag, byte type, byte arraySubtype, int arrayCount, ReadOnlySpan<byte> value)
    {
        Tag = tag;
        Type = type;
        ArraySubtype = arraySubtype;
        ArrayCount = arrayCount;
        Value = value;
    }

    /// <summary>The two tag characters.</summary>
    public ReadOnlySpan<byte> Tag { get; }

    /// <summary>The stored value type: one of <c>A c C s S i I f Z H B</c>.</summary>
    public byte Type { get; }

    /// <summary>For <c>B</c> arrays, the element type (<c>c C s S i I f</c>); otherwise 0.</summary>
    public byte ArraySubtype { get; }

    /// <summary>For <c>B</c> arrays, the number of elements; otherwise 0.</summary>
    public int ArrayCount { get; }

    /// <summary>
    /// The value's bytes: the little-endian scalar for <c>A c C s S i I f</c>, the text without its NUL for
    /// <c>Z H</c>, the elements for <c>B</c>.
    /// </summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>The tag as a 16-bit key (first character in the low byte), handy for dictionaries.</summary>
    public ushort TagKey => (ushort)(Tag[0] | (Tag[1] << 8));

    /// <summary>Whether the value is one of the integer types <c>c C s S i I</c>.</summary>
    public bool IsInteger => AuxDecoder.IsIntegerType(Type);

    /// <summary>The value of an integer field (<c>c C s S i I</c>) widened to 64 bits.</summary>
    public long GetInt64() => AuxDecoder.ReadInteger(Type, Value);

    /// <summary>The value of an <c>f</c> field.</summary>
    public float GetSingle() => BinaryPrimitives.ReadSingleLittleEndian(Value);

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
    private int _offset;
    private AuxField _current;

    internal AuxEnumerator(ReadOnlySpan<byte> data, int skipOffset)
    {
        _data = data;
        _skipOffset = skipOffset;
        _offset = 0;
        _current = default;
    }

    /// <summary>The current field.</summary>
    public readonly AuxField Current => _current;

    /// <summary>Returns this enumerator (for foreach).</summary>
    public readonly AuxEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next field.</summary>
    public bool MoveNext()
    {
        while (_offset < _data.Length)
        {
            int start = _offset;
            _offset += AuxDecoder.ReadField(_data[start..], out _current);
            if (start != _skipOffset)
            {
                return true;
            }
        }

        return false;
    }
}
