using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Apache.Arrow;

namespace Bamflow.Arrow;

/// <summary>
/// Where column builders get their byte arrays. A pooling instance keeps the arrays of written batches
/// (<see cref="Return(RecordBatch)"/>) and hands back the best fit, so a long conversion reuses a fixed set of
/// buffers instead of allocating new ones for every batch. Unlike <see cref="ArrayPool{T}.Shared"/> it does not
/// round sizes up to a power of two (a 45 MB column would take 64 MB). Only arrays this pool rented are ever
/// taken back (a batch's shared reference dictionary, for one, is not).
/// </summary>
public sealed class ColumnBufferPool
{
    private const int Granularity = 64 << 10;          // sizes round up to 64 KiB
    private const long MaxRetainedBytes = 1L << 30;    // never keep more than this for reuse

    private readonly ConcurrentDictionary<byte[], byte>? _rented;
    private readonly List<byte[]> _free = [];
    private long _freeBytes;
    private long _allocated;

    private ColumnBufferPool(bool pooling) => _rented = pooling ? new(ReferenceEqualityComparer.Instance) : null;

    /// <summary>A pool that does not pool: every array is new and left to the GC (for batches whose consumer keeps them).</summary>
    public static ColumnBufferPool None { get; } = new(pooling: false);

    /// <summary>Creates a pooling instance.</summary>
    public static ColumnBufferPool CreatePooling() => new(pooling: true);

    /// <summary>Arrays this pool has allocated (a rent it could not serve from what was returned).</summary>
    public long ArraysAllocated => Interlocked.Read(ref _allocated);

    /// <summary>Arrays rented and not yet returned.</summary>
    public int Outstanding => _rented?.Count ?? 0;

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes.</summary>
    public byte[] Rent(int minimumLength)
    {
        if (_rented is null)
        {
            return new byte[minimumLength];
        }

        byte[]? array = null;
        lock (_free)
        {
            // Best fit: the smallest free array that is large enough, if it is not wastefully large.
            int best = -1;
            for (int i = 0; i < _free.Count; i++)
            {
                int length = _free[i].Length;
                if (length >= minimumLength && length <= (long)minimumLength * 5 / 4 + Granularity && (best < 0 || length < _free[best].Length))
                {
                    best = i;
                }
            }

            if (best >= 0)
            {
                array = _free[best];
                _free.RemoveAt(best);
                _freeBytes -= array.Length;
            }
        }

        if (array is null)
        {
            array = GC.AllocateUninitializedArray<byte>((int)Math.Min(((long)minimumLength + Granularity - 1) / Granularity * Granularity, System.Array.MaxLength));
            Interlocked.Increment(ref _allocated);
        }

        _rented.TryAdd(array, 0);
        return array;
    }

    /// <summary>Gives back an array from <see cref="Rent"/>; anything else is ignored.</summary>
    public void Return(byte[] array)
    {
        if (_rented is not null && _rented.TryRemove(array, out _))
        {
            lock (_free)
            {
                if (_freeBytes + array.Length <= MaxRetainedBytes)
                {
                    _free.Add(array);
                    _freeBytes += array.Length;
                }
            }
        }
    }

    /// <summary>Ends the rent of an array from <see cref="Rent"/> without keeping it for reuse (it is left to the GC).</summary>
    public void Forget(byte[] array) => _rented?.TryRemove(array, out _);

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
