using System.Buffers.Binary;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// A run of consecutive BAM records, each with its block_size prefix as in the file: the unit of work that
/// the parallel stage turns into one <see cref="Apache.Arrow.RecordBatch"/>.
/// </summary>
public sealed class RecordChunk
{
    private byte[] _data;

    internal RecordChunk(int capacity) => _data = new byte[capacity];

    /// <summary>The records' bytes (block_size, record, block_size, record, …).</summary>
    public ReadOnlySpan<byte> Data => _data.AsSpan(0, Length);

    /// <summary>Number of bytes used.</summary>
    public int Length { get; private set; }

    /// <summary>Number of records.</summary>
    public int Count { get; private set; }

    /// <summary>Zero-based index in the file of the first record.</summary>
    public long FirstRecordIndex { get; internal set; }

    /// <summary>Zero-based sequence number of the chunk in the run.</summary>
    public long Sequence { get; internal set; }

    internal void Add(ReadOnlySpan<byte> record)
    {
        int needed = Length + 4 + record.Length;
        if (needed > _data.Length)
        {
            Array.Resize(ref _data, (int)Math.Min(Math.Max((long)_data.Length * 2, needed), Array.MaxLength));
        }

        BinaryPrimitives.WriteInt32LittleEndian(_data.AsSpan(Length), record.Length);
        record.CopyTo(_data.AsSpan(Length + 4));
        Length = needed;
        Count++;
    }

    /// <summary>Visits each record as a <see cref="BamRecord"/> view (records were validated when read).</summary>
    public void ForEach<TState>(int referenceCount, TState state, RecordAction<TState> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ReadOnlySpan<byte> data = Data;
        int offset = 0;
        long index = FirstRecordIndex;
        while (offset < data.Length)
        {
            int size = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            ReadOnlySpan<byte> bytes = data.Slice(offset + 4, size);
            BamRecordError error = BamRecord.TryCreate(bytes, referenceCount, out BamRecord record);
            if (error != BamRecordError.None)
            {
                throw new InvalidOperationException($"record {index + 1} changed after validation ({error})");
            }

            action(record, state);
            offset += 4 + size;
            index++;
        }
    }
}

/// <summary>Called for each record of a chunk.</summary>
public delegate void RecordAction<in TState>(BamRecord record, TState state);
