using System.Buffers;
using System.Buffers.Binary;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;

namespace Bamflow.Dataflow;

/// <summary>
/// A run of consecutive BAM records, each with its block_size prefix as in the file, and the virtual position
/// of each: the unit of work that flows through the graph's record stages (filters, statistics, your own blocks)
/// and that the conversion stage turns into one <see cref="Apache.Arrow.RecordBatch"/>. A filter does not copy:
/// it marks records as dropped, and every later stage skips them. Its buffers are rented and go back to the pool
/// when the chunk has been converted.
/// </summary>
public sealed class RecordChunk
{
    private readonly SharedBuffer _shared;   // the source's segment buffer, shared by the chunks cut from it
    private int _offset;
    private byte[] _data;
    private ulong[] _positions;
    private int _positionsOffset;
    private ulong[]? _dropped;    // bit per record, set when a filter drops it
    private List<BamRecordFormatException>? _skipped;

    /// <summary>
    /// A view of <paramref name="count"/> whole records at <paramref name="offset"/> in a buffer the source inflated into
    /// (no copy); holds one reference to it. Their virtual positions are <paramref name="positions"/> from
    /// <paramref name="positionsOffset"/>: the source's, freed with the buffer.
    /// </summary>
    internal RecordChunk(SharedBuffer shared, int offset, int length, ulong[] positions, int positionsOffset, int count, int referenceCount, string? fileName)
    {
        _positionsOffset = positionsOffset;
        _shared = shared;
        _data = shared.Array;
        _offset = offset;
        Length = length;
        _positions = positions;
        Count = count;
        ReferenceCount = referenceCount;
        FileName = fileName;
    }


    /// <summary>The segment buffer the chunk is a view of (chunks of one segment share it).</summary>
    internal object Segment => _shared;

    /// <summary>The records' bytes (block_size, record, block_size, record, …).</summary>
    public ReadOnlySpan<byte> Data => _data.AsSpan(_offset, Length);

    /// <summary>Number of bytes used.</summary>
    public int Length { get; private set; }

    /// <summary>Number of complete records (dropped ones included).</summary>
    public int Count { get; private set; }

    /// <summary>Number of records no filter has dropped.</summary>
    public int KeptCount => Count - DroppedCount;

    /// <summary>Number of records a filter has dropped.</summary>
    public int DroppedCount { get; private set; }

    /// <summary>The number of references in the header (records are validated against it).</summary>
    public int ReferenceCount { get; }

    /// <summary>The input's name, for error messages.</summary>
    public string? FileName { get; }

    /// <summary>Whether an invalid record is dropped (and noted in <see cref="Skipped"/>) instead of thrown.</summary>
    public bool Lenient { get; init; }

    /// <summary>The invalid records dropped so far (lenient validation only).</summary>
    public IReadOnlyList<BamRecordFormatException> Skipped => _skipped ?? (IReadOnlyList<BamRecordFormatException>)[];

    /// <summary>Zero-based index in the file of the first record.</summary>
    public long FirstRecordIndex { get; internal set; }

    /// <summary>Zero-based sequence number of the chunk in the run.</summary>
    public long Sequence { get; internal set; }

    /// <summary>The virtual position of record <paramref name="index"/> (0-based within the chunk).</summary>
    public VirtualPosition PositionOf(int index) => new(_positions[_positionsOffset + index]);

    /// <summary>Gives the buffers back; the chunk must not be used afterwards.</summary>
    internal void Release()
    {
        _shared.Release();

        if (_dropped is not null)
        {
            ArrayPool<ulong>.Shared.Return(_dropped);
        }

        _data = [];
        _offset = 0;
        _positions = [];
        _dropped = null;
        _skipped = null;
        Length = 0;
        Count = 0;
        DroppedCount = 0;
    }

    /// <summary>
    /// The region selection the chunk's records are still to pass (a region query's: which records of the index's ranges
    /// overlap the region), or null. <see cref="ApplySelection"/> applies it once.
    /// </summary>
    internal RecordPredicate? Selection { get; set; }

    /// <summary>Drops the records the region selection does not keep, once (later calls do nothing).</summary>
    internal void ApplySelection()
    {
        if (Selection is { } selection)
        {
            Selection = null;
            Retain(selection);
        }
    }

    /// <summary>Whether record <paramref name="index"/> (0-based within the chunk) has been dropped by a filter.</summary>
    public bool IsDropped(int index) => _dropped is not null && (_dropped[index >> 6] & (1UL << index)) != 0;

    /// <summary>
    /// Validates each record not yet dropped and drops those for which <paramref name="keep"/> returns false.
    /// </summary>
    /// <exception cref="BamRecordFormatException">A record is malformed; names its index and virtual position.</exception>
    public void Retain(RecordPredicate keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        ReadOnlySpan<byte> data = Data;
        int offset = 0;
        for (int i = 0; i < Count; i++)
        {
            int size = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            if (!IsDropped(i) && TryValidate(data.Slice(offset + 4, size), i, checkValues: false, out BamRecord record) && !keep(record))
            {
                Drop(i);
            }

            offset += 4 + size;
        }
    }

    /// <summary>
    /// Keeps the first <paramref name="count"/> records not dropped yet and drops the others (<see cref="PipelineOptions.Limit"/>).
    /// Under lenient validation the records it keeps are validated first, as the conversion will (values included), so
    /// an invalid one does not count.
    /// </summary>
    /// <returns>How many it kept, and the index after the last one kept.</returns>
    internal (int Kept, int End) KeepFirst(long count)
    {
        if (!Lenient && KeptCount < count)
        {
            return (KeptCount, Count);
        }

        ReadOnlySpan<byte> data = Data;
        int offset = 0, kept = 0, end = 0;
        for (int i = 0; i < Count; i++)
        {
            int size = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            if (!IsDropped(i))
            {
                if (kept == count)
                {
                    Drop(i);
                }
                else if (!Lenient || TryValidate(data.Slice(offset + 4, size), i, checkValues: true, out _))
                {
                    kept++;
                    end = i + 1;
                }
            }

            offset += 4 + size;
        }

        return (kept, end);
    }

    /// <summary>Validates each record not dropped and visits it as a <see cref="BamRecord"/> view.</summary>
    /// <exception cref="BamRecordFormatException">A record is malformed; names its index and virtual position.</exception>
    public void ForEach<TState>(TState state, RecordAction<TState> action) => ForEach(state, action, checkValues: false);

    /// <summary>
    /// As <see cref="ForEach{TState}(TState, RecordAction{TState})"/>; with <paramref name="checkValues"/> a record
    /// whose values cannot be written exactly (<see cref="BamRecord.ValidateValues"/>) is invalid too: the conversion.
    /// </summary>
    internal void ForEach<TState>(TState state, RecordAction<TState> action, bool checkValues)
    {
        ArgumentNullException.ThrowIfNull(action);
        ReadOnlySpan<byte> data = Data;
        int offset = 0;
        for (int i = 0; i < Count; i++)
        {
            int size = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            if ((_dropped is null || !IsDropped(i)) && TryValidate(data.Slice(offset + 4, size), i, checkValues, out BamRecord record))
            {
                action(record, state);
            }

            offset += 4 + size;
        }
    }

    /// <summary>Validates a record: true if valid; an invalid one throws, or (lenient) is dropped and noted.</summary>
    private bool TryValidate(ReadOnlySpan<byte> bytes, int index, bool checkValues, out BamRecord record)
    {
        BamRecordError error = BamRecord.TryCreate(bytes, ReferenceCount, out record);
        if (error == BamRecordError.None && checkValues)
        {
            error = record.ValidateValues();
        }

        if (error == BamRecordError.None)
        {
            return true;
        }

        var exception = BamRecordFormatException.Invalid(error, bytes, ReferenceCount, FileName, FirstRecordIndex + index, PositionOf(index));
        if (!Lenient)
        {
            throw exception;
        }

        (_skipped ??= []).Add(exception);
        Drop(index);
        return false;
    }

    private void Drop(int index)
    {
        _dropped ??= RentCleared((Count + 63) >> 6);
        _dropped[index >> 6] |= 1UL << index;
        DroppedCount++;
    }

    private static ulong[] RentCleared(int length)
    {
        ulong[] bits = ArrayPool<ulong>.Shared.Rent(length);
        bits.AsSpan(0, length).Clear();
        return bits;
    }
}

/// <summary>
/// An array shared by the chunks cut from it, counted: the last <see cref="Release"/> hands it to <c>free</c>. It starts
/// with one reference, its owner's.
/// </summary>
internal sealed class SharedBuffer(byte[] array, Action<byte[]> free)
{
    private int _references = 1;

    public byte[] Array { get; } = array;

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            free(Array);
        }
    }
}

/// <summary>Called for each record of a chunk.</summary>
public delegate void RecordAction<in TState>(BamRecord record, TState state);

/// <summary>Decides whether a record stays in the stream.</summary>
public delegate bool RecordPredicate(BamRecord record);
