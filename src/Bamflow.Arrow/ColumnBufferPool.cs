using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Apache.Arrow;

namespace Bamflow.Arrow;

/// <summary>
/// Where column builders get their byte arrays. A pooling instance rents from <see cref="ArrayPool{T}.Shared"/>
/// and takes the arrays of a written batch back with <see cref="Return(RecordBatch)"/>, so a long conversion
/// reuses a fixed set of buffers instead of allocating new ones for every batch. Only arrays this pool rented
/// are ever returned (a batch's shared reference dictionary, for one, is not).
/// </summary>
public sealed class ColumnBufferPool
{
    private readonly ConcurrentDictionary<byte[], byte>? _rented;

    private ColumnBufferPool(bool pooling) => _rented = pooling ? new(ReferenceEqualityComparer.Instance) : null;

    /// <summary>A pool that does not pool: every array is new and left to the GC (for batches whose consumer keeps them).</summary>
    public static ColumnBufferPool None { get; } = new(pooling: false);

    /// <summary>Creates a pooling instance.</summary>
    public static ColumnBufferPool CreatePooling() => new(pooling: true);

    /// <summary>Arrays rented and not yet returned.</summary>
    public int Outstanding => _rented?.Count ?? 0;

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes.</summary>
    public byte[] Rent(int minimumLength)
    {
        if (_rented is null)
        {
            return new byte[minimumLength];
        }

        byte[] array = ArrayPool<byte>.Shared.Rent(minimumLength);
        _rented.TryAdd(array, 0);
        return array;
    }

    /// <summary>Gives back an array from <see cref="Rent"/>; anything else is ignored.</summary>
    public void Return(byte[] array)
    {
        if (_rented is not null && _rented.TryRemove(array, out _))
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>Gives back every rented array behind <paramref name="batch"/>. The batch must not be used afterwards.</summary>
    public void Return(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_rented is null)
        {
            return;
        }

        foreach (IArrowArray array in batch.Arrays)
        {
            Return(array.Data);
        }
    }

    private void Return(ArrayData data)
    {
        foreach (ArrowBuffer buffer in data.Buffers ?? [])
        {
            if (MemoryMarshal.TryGetArray(buffer.Memory, out ArraySegment<byte> segment) && segment.Array is not null)
            {
                Return(segment.Array);
            }
        }

        foreach (ArrayData child in data.Children ?? [])
        {
            Return(child);
        }
    }
}
