using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace Bamflow.Bam;

/// <summary>
/// A growable UTF-8 byte buffer for building SAM text without creating strings. Reuse one per thread:
/// <see cref="Clear"/> keeps the storage.
/// </summary>
public sealed class TextBuffer
{
    private byte[] _buffer;

    /// <summary>Creates a buffer with room for <paramref name="capacity"/> bytes.</summary>
    public TextBuffer(int capacity = 256) => _buffer = new byte[Math.Max(16, capacity)];

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    /// <summary>Forgets the contents, keeping the storage.</summary>
    public void Clear() => Length = 0;

    /// <summary>Returns a span of at least <paramref name="size"/> writable bytes at the end; call <see cref="Advance"/> after writing.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - Length < size)
        {
            Grow(size);
        }

        return _buffer.AsSpan(Length);
    }

    /// <summary>Cuts the contents back to the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
    }

    /// <summary>Marks <paramref name="count"/> bytes written into the span from <see cref="GetSpan"/>.</summary>
    public void Advance(int count) => Length += count;

    /// <summary>Appends one byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(byte value)
    {
        if (Length == _buffer.Length)
        {
            Grow(1);
        }

        _buffer[Length++] = value;
    }

    /// <summary>Appends bytes.</summary>
    public void Append(ReadOnlySpan<byte> value)
    {
        value.CopyTo(GetSpan(value.Length));
        Length += value.Length;
    }

    /// <summary>Appends an integer in decimal.</summary>
    public void Append(long value)
    {
        Utf8Formatter.TryFormat(value, GetSpan(20), out int written);
        Length += written;
    }

    /// <summary>Appends an unsigned integer in decimal.</summary>
    public void Append(ulong value)
    {
        Utf8Formatter.TryFormat(value, GetSpan(20), out int written);
        Length += written;
    }

    private void Grow(int size)
    {
        long wanted = Math.Max((long)_buffer.Length * 2, (long)Length + size);
        if (wanted > Array.MaxLength)
        {
            wanted = (long)Length + size <= Array.MaxLength ? Array.MaxLength : throw new OutOfMemoryException("text buffer would exceed the largest array");
        }

        Array.Resize(ref _buffer, (int)wanted);
    }
}
