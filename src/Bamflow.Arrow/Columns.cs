using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Bamflow.Arrow;

/// <summary>A growable byte buffer that becomes an <see cref="ArrowBuffer"/> without copying.</summary>
internal sealed class ByteStore
{
    private byte[] _bytes;

    public ByteStore(int capacity) => _bytes = new byte[Math.Max(capacity, 64)];

    public int Length { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Reserve(int size)
    {
        if (_bytes.Length - Length < size)
        {
            Grow(size);
        }

        return _bytes.AsSpan(Length, size);
    }

    public void Commit(int size) => Length += size;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        Length += bytes.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append<T>(T value) where T : unmanaged
    {
        MemoryMarshal.Write(Reserve(Unsafe.SizeOf<T>()), in value);
        Length += Unsafe.SizeOf<T>();
    }

    /// <summary>Hands the bytes over as an Arrow buffer and starts a fresh store of the same capacity.</summary>
    public ArrowBuffer Detach()
    {
        var buffer = new ArrowBuffer(_bytes.AsMemory(0, Length));
        _bytes = new byte[_bytes.Length];
        Length = 0;
        return buffer;
    }

    private void Grow(int size)
    {
        long wanted = Math.Max((long)_bytes.Length * 2, (long)Length + size);
        if (wanted > System.Array.MaxLength)
        {
            throw new InvalidOperationException("an Arrow column buffer would exceed 2 GiB; use a smaller batch size or byte budget");
        }

        System.Array.Resize(ref _bytes, (int)wanted);
    }
}

/// <summary>An Arrow validity bitmap under construction (bit set = valid).</summary>
internal sealed class Validity
{
    private byte[] _bits = new byte[64];
    private int _count;

    public int NullCount { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(bool valid)
    {
        int byteIndex = _count >> 3;
        if (byteIndex == _bits.Length)
        {
            System.Array.Resize(ref _bits, _bits.Length * 2);
        }

        if ((_count & 7) == 0)
        {
            _bits[byteIndex] = 0;
        }

        if (valid)
        {
            _bits[byteIndex] |= (byte)(1 << (_count & 7));
        }
        else
        {
            NullCount++;
        }

        _count++;
    }

    /// <summary>The bitmap, or an empty buffer when nothing is null (Arrow's "all valid").</summary>
    public ArrowBuffer Detach(out int nullCount)
    {
        nullCount = NullCount;
        ArrowBuffer buffer = nullCount == 0 ? ArrowBuffer.Empty : new ArrowBuffer(_bits.AsMemory(0, (_count + 7) >> 3));
        if (nullCount != 0)
        {
            _bits = new byte[_bits.Length];
        }

        _count = 0;
        NullCount = 0;
        return buffer;
    }
}

/// <summary>A Utf8 column: offsets, bytes, validity.</summary>
internal sealed class Utf8Column
{
    private readonly ByteStore _offsets;
    private readonly ByteStore _data;
    private readonly Validity _validity = new();
    private int _count;

    public Utf8Column(int rows, int bytes)
    {
        _offsets = new ByteStore((rows + 1) * 4);
        _data = new ByteStore(bytes);
        _offsets.Append(0);
    }

    public ByteStore Data => _data;

    /// <summary>Ends the current value (whose bytes were appended to <see cref="Data"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EndValue()
    {
        _offsets.Append(_data.Length);
        _validity.Append(true);
        _count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(ReadOnlySpan<byte> value)
    {
        _data.Append(value);
        EndValue();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AppendNull()
    {
        _offsets.Append(_data.Length);
        _validity.Append(false);
        _count++;
    }

    public StringArray Build()
    {
        ArrowBuffer validity = _validity.Detach(out int nullCount);
        var array = new StringArray(_count, _offsets.Detach(), _data.Detach(), validity, nullCount, 0);
        _offsets.Append(0);
        _count = 0;
        return array;
    }
}

/// <summary>A fixed-width column of <typeparamref name="T"/> with validity.</summary>
internal sealed class PrimitiveColumn<T>(int rows, IArrowType type) where T : unmanaged
{
    private readonly ByteStore _values = new(rows * Unsafe.SizeOf<T>());
    private readonly Validity _validity = new();
    private int _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(T value)
    {
        _values.Append(value);
        _validity.Append(true);
        _count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AppendNull()
    {
        _values.Append(default(T));
        _validity.Append(false);
        _count++;
    }

    public IArrowArray Build()
    {
        ArrowBuffer validity = _validity.Detach(out int nullCount);
        var data = new ArrayData(type, _count, nullCount, 0, [validity, _values.Detach()]);
        _count = 0;
        return ArrowArrayFactory.BuildArray(data);
    }
}
