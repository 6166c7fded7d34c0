using System.Buffers;
using System.Buffers.Binary;
using Bamflow.Bgzf;

namespace Bamflow.Bam;

/// <summary>
/// The one sequential step of the reader stack: takes the inflated segments of a BGZF input in file order and joins the
/// record that straddles two of them. Each segment is inflated into a buffer after some free room (the
/// <i>reserve</i>); the joiner puts the bytes of the record the segment before left unfinished (its <i>carry</i>) into
/// that room, so the segment's records are whole and contiguous, and keeps the bytes after the segment's last whole
/// record for the next one. A record longer than a segment is gathered in the carry (growing geometrically, up to the
/// record's checked block_size) and goes in front of the segment that completes it. When the segment before left no
/// carry, the record starts walked from the segment's first byte on another core (<see cref="BamRecordFramer"/>) are the
/// true ones and are used as they are; otherwise the joiner walks the segment from the end of the joined record.
/// </summary>
public sealed class BamRecordJoiner : IDisposable
{
    private const int InitialReserve = 64 << 10;

    private readonly int _maxRecordSize;
    private readonly int _maxReserve;
    private readonly string? _fileName;
    private readonly Carry _carry = new();
    private int _reserve = InitialReserve;
    private bool _first = true;

    /// <summary>A joiner whose first segment follows <paramref name="leading"/>, the inflated bytes before it (after a header), which start at <paramref name="leadingPosition"/>.</summary>
    public BamRecordJoiner(int maxRecordSize, int maxReserve, string? fileName, ReadOnlySpan<byte> leading = default, VirtualPosition leadingPosition = default)
    {
        BamRecordFraming.ValidateMaxRecordSize(maxRecordSize);
        _maxRecordSize = maxRecordSize;
        _maxReserve = Math.Max(InitialReserve, maxReserve);
        _fileName = fileName;
        _carry.Set(leading, leadingPosition, 0);
    }

    /// <summary>The room to keep in front of a segment's inflated bytes: it grows with the longest carry met (long reads), up to the most given.</summary>
    public int Reserve => Volatile.Read(ref _reserve);

    /// <summary>Whole records framed so far: the index of the next record.</summary>
    public long RecordsFramed { get; private set; }

    /// <summary>The record limit on block_size.</summary>
    public int MaxRecordSize => _maxRecordSize;

    /// <summary>
    /// Joins the next segment: its inflated bytes are <c>data[reserve..(reserve + length)]</c> (the good ones, before any
    /// block that failed to inflate), and <paramref name="walked"/> holds the record starts walked from its first byte up to
    /// <paramref name="walkedEnd"/> (<paramref name="walkedInvalid"/>: the walk stopped at a bad block_size). On return,
    /// <paramref name="starts"/> holds the starts of its whole records (in <paramref name="data"/>, which may have been
    /// moved to a larger array), from <see cref="JoinResult.Begin"/> to <see cref="JoinResult.End"/>.
    /// </summary>
    public JoinResult Join(ref byte[] data, ref int reserve, int length, BgzfSegment segment, RecordStarts walked, int walkedEnd, bool walkedInvalid, RecordStarts starts, Exception? segmentError)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(walked);
        ArgumentNullException.ThrowIfNull(starts);
        starts.Clear();
        bool first = _first;
        _first = false;
        if (segment.StartsRange && !first && _carry.Length > 0)
        {
            // A range of the reader ended inside a record: its end was not a record boundary.
            var cut = RangeCut();
            return new JoinResult(reserve, reserve, cut, PassedOn: false, default);
        }

        if (segmentError is null && _carry.NeedsMoreThan(length))
        {
            _carry.Append(data.AsSpan(reserve, length));
            return new JoinResult(reserve, reserve, null, PassedOn: true, default);
        }

        int carried = _carry.Length;
        if (carried > reserve)
        {
            // A carry longer than the room kept for it: the segment's bytes move once, and later segments keep more room.
            long room = (long)carried + length;
            if (data.Length >= room)
            {
                data.AsSpan(reserve, length).CopyTo(data.AsSpan(carried)); // overlapping: a move
            }
            else
            {
                byte[] grown = GC.AllocateUninitializedArray<byte>((int)Math.Min(room + BgzfFrame.MaxInflatedSize, Array.MaxLength));
                data.AsSpan(reserve, length).CopyTo(grown.AsSpan(carried));
                data = grown;
            }

            reserve = carried;
            // Twice the carry (or the room kept so far), at most the most given: every segment buffer is sized again when
            // the room grows, so it grows in a few large steps, not with every longer record.
            Volatile.Write(ref _reserve, Math.Max(_reserve, (int)Math.Min(Math.Max(2L * carried, 2L * _reserve), _maxReserve)));
        }

        int begin = reserve - carried, end = reserve + length;
        _carry.Bytes.CopyTo(data.AsSpan(begin));
        VirtualPosition carryPosition = _carry.Position;
        int p;
        bool invalid;
        if (carried == 0)
        {
            for (int i = 0; i < walked.Count; i++)
            {
                starts.Add(walked[i]);
            }

            p = walkedEnd;
            invalid = walkedInvalid;
            if (!invalid)
            {
                // Records the walk did not reach (a caller that walked only part of the segment, or none of it).
                p = BamRecordFramer.Walk(data.AsSpan(0, end), p, _maxRecordSize, starts, out invalid);
            }
        }
        else
        {
            p = BamRecordFramer.Walk(data.AsSpan(0, end), begin, _maxRecordSize, starts, out invalid);
        }

        var positions = new Positions(segment, reserve, begin, carryPosition);
        Exception? fault = null;
        long index = RecordsFramed + starts.Count;
        if (invalid)
        {
            int size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(p));
            fault = BamRecordFraming.Check(size, _maxRecordSize, _fileName, index, positions.At(p));
        }

        fault ??= segmentError; // a record cut short by a bad block: the block's error
        if (fault is null && end - p >= 4)
        {
            // A record that runs on into the next segment: its block_size is checked before any byte of it is carried.
            int size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(p));
            fault = BamRecordFraming.Check(size, _maxRecordSize, _fileName, index, positions.At(p));
            if (fault is null)
            {
                _carry.Set(data.AsSpan(p, end - p), positions.At(p), 4 + size);
            }
        }
        else if (fault is null)
        {
            _carry.Set(data.AsSpan(p, end - p), p < end ? positions.At(p) : default, 0);
        }

        RecordsFramed = index;
        return new JoinResult(begin, p, fault, PassedOn: false, positions);
    }

    /// <summary>
    /// After the last segment: the error of a record cut short by the end of the input, or null. Call only when the input
    /// really ended (not when reading stopped early).
    /// </summary>
    public BamRecordFormatException? Finish()
    {
        int length = _carry.Length;
        if (length == 0)
        {
            return null;
        }

        int size = length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(_carry.Bytes) : 0;
        return BamRecordFormatException.Unreadable(BamRecordError.Truncated,
            length < 4 ? $"file ends inside a record's block_size ({length} of 4 bytes)" : $"file ends inside a record: {size - (length - 4)} bytes of it are missing",
            _fileName, RecordsFramed, _carry.Position);
    }

    private BamRecordFormatException RangeCut() => BamRecordFormatException.Unreadable(BamRecordError.Truncated,
        "a range of the input ends inside a record (its end is not a record boundary)", _fileName, RecordsFramed, _carry.Position);

    /// <inheritdoc />
    public void Dispose() => _carry.Release();

    /// <summary>What <see cref="Join"/> made of a segment.</summary>
    /// <param name="Begin">Where the first whole record starts in the data (the carry's first byte).</param>
    /// <param name="End">Where the last whole record ends.</param>
    /// <param name="Fault">The error after the whole records (a bad block_size or block), or null.</param>
    /// <param name="PassedOn">Whether the segment's bytes all went into the carry (a record longer than a segment): it holds no records.</param>
    /// <param name="Positions">The virtual positions of the records' starts.</param>
    public readonly record struct JoinResult(int Begin, int End, Exception? Fault, bool PassedOn, Positions Positions);

    /// <summary>Maps an offset in a joined segment's data to its virtual position in the file.</summary>
    public readonly struct Positions
    {
        private readonly BgzfSegment? _segment;
        private readonly int _reserve;
        private readonly int _begin;
        private readonly VirtualPosition _carryPosition;

        internal Positions(BgzfSegment? segment, int reserve, int begin, VirtualPosition carryPosition)
        {
            _segment = segment;
            _reserve = reserve;
            _begin = begin;
            _carryPosition = carryPosition;
        }

        /// <summary>
        /// The virtual position of the byte at <paramref name="offset"/>. A record start in the carry is in the carry's
        /// first block (a carry holds one record start, or the rest of the block a header ended in).
        /// </summary>
        public VirtualPosition At(int offset)
        {
            int hint = 0;
            return At(offset, ref hint);
        }

        /// <summary>As <see cref="At(int)"/>, walking forward from block <paramref name="frameHint"/> (for offsets asked in increasing order).</summary>
        public VirtualPosition At(int offset, ref int frameHint)
        {
            if (offset < _reserve || _segment is null)
            {
                return new VirtualPosition(_carryPosition.CompressedOffset, Math.Min(_carryPosition.BlockOffset + (offset - _begin), ushort.MaxValue));
            }

            return _segment.PositionAt(offset - _reserve, ref frameHint);
        }
    }

    /// <summary>
    /// The bytes after a segment's last whole record (the start of a record that runs on), for the next segment. When they
    /// hold a checked block_size (<see cref="RecordLength"/>), a segment that does not complete the record appends its bytes
    /// here, so a record longer than a segment is copied once, into a buffer that grows geometrically.
    /// </summary>
    private sealed class Carry
    {
        // Buffers up to this size come from the shared array pool; longer ones (long records) are left to the GC once used.
        private const int PooledLength = 1 << 20;
        private byte[] _bytes = [];

        public int Length { get; private set; }

        public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, Length);

        /// <summary>Where its first byte is in the file.</summary>
        public VirtualPosition Position { get; private set; }

        /// <summary>The whole length (4 + block_size) of the record it starts, once that block_size was checked; 0 otherwise.</summary>
        public int RecordLength { get; private set; }

        /// <summary>Whether <paramref name="more"/> bytes do not complete the record the carry starts.</summary>
        public bool NeedsMoreThan(int more) => RecordLength > 0 && (long)Length + more < RecordLength;

        public void Set(ReadOnlySpan<byte> bytes, VirtualPosition position, int recordLength)
        {
            // The buffer is kept while it fits (long reads carry a record's start every segment: a new one each time
            // would be garbage in proportion to the input), unless it is far larger than what it holds now.
            if (bytes.Length > _bytes.Length || _bytes.Length > Math.Max(PooledLength, 16L * bytes.Length))
            {
                Release();
                _bytes = bytes.IsEmpty ? [] : Allocate(bytes.Length);
            }

            bytes.CopyTo(_bytes);
            Length = bytes.Length;
            Position = position;
            RecordLength = recordLength;
        }

        /// <summary>Appends <paramref name="bytes"/> (which do not complete the record), growing geometrically up to the record's length.</summary>
        public void Append(ReadOnlySpan<byte> bytes)
        {
            int needed = Length + bytes.Length;
            if (needed > _bytes.Length)
            {
                byte[] grown = Allocate((int)Math.Min(Math.Max((long)_bytes.Length * 2, needed), Math.Max(RecordLength, needed)));
                _bytes.AsSpan(0, Length).CopyTo(grown);
                int length = Length;
                Release();
                _bytes = grown;
                Length = length;
            }

            bytes.CopyTo(_bytes.AsSpan(Length));
            Length = needed;
        }

        public void Release()
        {
            if (_bytes.Length is > 0 and <= PooledLength)
            {
                ArrayPool<byte>.Shared.Return(_bytes);
            }

            _bytes = [];
            Length = 0;
        }

        private static byte[] Allocate(int length) => length <= PooledLength ? ArrayPool<byte>.Shared.Rent(length) : GC.AllocateUninitializedArray<byte>(length);
    }
}
