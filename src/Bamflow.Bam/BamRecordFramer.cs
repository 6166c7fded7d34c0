using System.Buffers.Binary;

namespace Bamflow.Bam;

/// <summary>
/// Where records start in a run of inflated BAM bytes (SAMv1 §4.2: each record is its 4-byte block_size and then that many
/// bytes): a pure function that reads nothing but the block_size fields. It walks from a given record start to the last
/// record the bytes hold whole, and stops early at a block_size that cannot be a record's
/// (<see cref="BamRecordFraming"/>), which the caller reports.
/// </summary>
public static class BamRecordFramer
{
    /// <summary>
    /// Walks the records from <paramref name="offset"/> (a record start) in <paramref name="data"/>, adding each whole
    /// record's start to <paramref name="starts"/>.
    /// </summary>
    /// <returns>
    /// Where the walk stopped: after the last whole record (where a record the bytes do not yet hold all of starts, or the
    /// end), or at a block_size out of range, with <paramref name="invalid"/> set.
    /// </returns>
    public static int Walk(ReadOnlySpan<byte> data, int offset, int maxRecordSize, RecordStarts starts, out bool invalid)
    {
        ArgumentNullException.ThrowIfNull(starts);
        int p = offset;
        invalid = false;
        while (data.Length - p >= 4)
        {
            int size = BinaryPrimitives.ReadInt32LittleEndian(data[p..]);
            if (!BamRecordFraming.IsInRange(size, maxRecordSize))
            {
                invalid = true;
                break;
            }

            if (data.Length - p - 4 < size)
            {
                break;
            }

            starts.Add(p);
            p += 4 + size;
        }

        return p;
    }
}

/// <summary>A growable list of record starts (offsets in a buffer), reused from walk to walk.</summary>
public sealed class RecordStarts
{
    private int[] _items = new int[1024];

    /// <summary>Number of starts.</summary>
    public int Count { get; private set; }

    /// <summary>Start <paramref name="index"/>.</summary>
    public int this[int index] => _items[index];

    /// <summary>Adds a start.</summary>
    public void Add(int start)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
        }

        _items[Count++] = start;
    }

    /// <summary>Empties the list (its memory stays).</summary>
    public void Clear() => Count = 0;
}
