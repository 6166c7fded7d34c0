using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Bamflow.Arrow;

/// <summary>
/// A growable byte buffer, from a <see cref="ColumnBufferPool"/>, that becomes an <see cref="ArrowBuffer"/> without copying.
/// An offsets store starts every buffer with the Int32 offset 0 that Arrow's offsets begin with, written when the
/// array is rented, so a builder holds no array between batches.
/// </summary>
internal sealed class ByteStore(ColumnBufferPool pool, int capacity, bool offsets = false)
{
    private byte[] _bytes = [];
    private int _capacityHint = Math.Max(capacity, 64);
    private bool _hintMeasured;   // the hint is a batch's real size, not the first guess

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

    /// <summary>Hands the bytes over as an Arrow buffer; the next append starts a fresh array of the size this batch needed.</summary>
    public ArrowBuffer Detach()
    {
        if (offsets && _bytes.Length == 0)
        {
            Grow(0);
        }

        var buffer = new ArrowBuffer(_bytes.AsMemory(0, Length));
        _capacityHint = Math.Max(_capacityHint, Length);
        _hintMeasured = true;
        _bytes = [];
        Length = 0;
        return buffer;
    }

    private void Grow(int size)
    {
        int start = offsets && _bytes.Length == 0 ? sizeof(int) : 0;
        // Past the largest batch so far, grow by an eighth rather than double: later batches rent the new size, and
        // an array twice the usual size would only sit in the pool.
        long step = _hintMeasured && _bytes.Length >= _capacityHint ? _bytes.Length + (_bytes.Length >> 3) : (long)_bytes.Length * 2;
        long wanted = Math.Max(Math.Max(step, (long)Length + start + size), _capacityHint);
        if (wanted > System.Array.MaxLength)
        {
            throw new InvalidOperationException("an Arrow column buffer would exceed 2 GiB; use a smaller batch size or byte budget");
        }

        byte[] grown = pool.Rent((int)wanted);
        _bytes.AsSpan(0, Length).CopyTo(grown);
        if (_bytes.Length > 0)
        {
            pool.Return(_bytes);
        }

        _bytes = grown;
        if (start > 0)
        {
            MemoryMarshal.Write(grown, 0);
            Length = start;
        }
    }
}

/// <summary>An Arrow validity bitmap under construction (bit set = valid).</summary>
internal sealed class Validity(ColumnBufferPool pool, int rows)
{
    // Only the rows that are null are noted; the bitmap is made at Detach, and only when there is a null. A valid
    // value, by far the common case, costs one increment.
    private readonly ByteStore _bits = new(pool, (rows + 7) / 8);
    private int[] _nullRows = new int[16];
    private int _count;

    public int NullCount { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(bool valid)
    {
        if (!valid)
        {
            AddNull();
        }

        _count++;
    }

    /// <summary>The bitmap, or an empty buffer when nothing is null (Arrow's "all valid").</summary>
    public ArrowBuffer Detach(out int nullCount)
    {
        nullCount = NullCount;
        int count = _count;
        _count = 0;
        NullCount = 0;
        if (nullCount == 0)
        {
            return ArrowBuffer.Empty;
        }

        Span<byte> bits = _bits.Reserve((count + 7) / 8);
        bits.Fill(0xFF);
        foreach (int row in _nullRows.AsSpan(0, nullCount))
        {
            bits[row >> 3] &= (byte)~(1 << (row & 7));
        }

        _bits.Commit(bits.Length);
        return _bits.Detach();
    }

    private void AddNull()
    {
        if (NullCount == _nullRows.Length)
        {
            System.Array.Resize(ref _nullRows, _nullRows.Length * 2);
        }

        _nullRows[NullCount++] = _count;
    }
}

/// <summary>A Utf8 column: offsets, bytes, validity.</summary>
internal sealed class Utf8Column
{
    private readonly ByteStore _offsets;
    private readonly ByteStore _data;
    private readonly Validity _validity;
    private int _count;

    public Utf8Column(ColumnBufferPool pool, int rows, int bytes)
    {
        _offsets = new ByteStore(pool, (rows + 1) * 4, offsets: true);
        _data = new ByteStore(pool, bytes);
        _validity = new Validity(pool, rows);
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
        _count = 0;
        return array;
    }
}

/// <summary>A fixed-width column of <typeparamref name="T"/> with validity.</summary>
internal sealed class PrimitiveColumn<T>(ColumnBufferPool pool, int rows, IArrowType type) where T : unmanaged
{
    private readonly ByteStore _values = new(pool, rows * Unsafe.SizeOf<T>());
    private readonly Validity _validity = new(pool, rows);
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
