using System.Buffers.Binary;
using Bamflow.Bgzf;

namespace Bamflow.Bam.Shards;

/// <summary>
/// Finds where a BAM record starts from a BGZF block start in the middle of a file, without reading the file from its
/// start (as Hadoop-BAM's and Disq's splitters do): every inflated byte is a candidate; one is taken when its fixed
/// fields are plausible for the header (block_size within the record-size limit and at least what its lengths declare,
/// reference ids of the header, a read name without control characters), and proven when it and the records after it —
/// <see cref="ProofRecords"/> of them, or up to the end of the file — are each whole, valid records
/// (<see cref="BamRecord.TryCreate"/>: lengths, CIGAR, aux fields), back to back; once those whole records hold 64 KiB
/// (long reads), the next record need only start plausibly. It reads a few blocks for short reads, and about a record
/// and a half (the way to the first start, that record) for long ones. Not thread-safe; one per thread.
/// </summary>
public sealed class BamRecordSearch : IDisposable
{
    /// <summary>The records, the candidate first, that must be valid one after the other (fewer where the file ends).</summary>
    public const int ProofRecords = 3;

    private readonly Stream _file;
    private readonly BgzfFrameReader _frames;
    private readonly IBgzfInflater _inflater;
    private readonly string? _fileName;
    private readonly int _referenceCount;
    private readonly int _maxRecordSize;
    private readonly byte[] _frameBuffer = new byte[BgzfFrame.MaxLength];
    private readonly List<(long CompressedOffset, int Start, int Length)> _blocks = [];
    private byte[] _data = new byte[4 * BgzfFrame.MaxInflatedSize];
    private int _length;
    private long _startBlock;
    private bool _atEnd;

    /// <summary>A search in <paramref name="file"/> (a stream that seeks, left open), for a BAM whose header has <paramref name="referenceCount"/> references.</summary>
    public BamRecordSearch(Stream file, string? fileName, int referenceCount, int maxRecordSize, IBgzfInflater inflater)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(inflater);
        BamRecordFraming.ValidateMaxRecordSize(maxRecordSize);
        if (!file.CanSeek)
        {
            throw new NotSupportedException($"{fileName ?? "the input"}: finding records in the middle of a file needs a file that can seek");
        }

        _file = file;
        _fileName = fileName;
        _referenceCount = referenceCount;
        _maxRecordSize = maxRecordSize;
        _inflater = inflater;
        file.Position = 0;
        _frames = new BgzfFrameReader(file, fileName, leaveOpen: true);
    }

    /// <summary>Compressed bytes read so far (blocks read for candidates and proofs).</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// The first proven record start in the blocks from <paramref name="blockOffset"/> (a block start) on, at or after
    /// <paramref name="notBefore"/>; null when none is left before the end of the file.
    /// </summary>
    /// <exception cref="BamFormatException">No record starts within the record-size limit of the block (the file is corrupt there), or a block is malformed.</exception>
    public VirtualPosition? FindRecordStart(long blockOffset, VirtualPosition notBefore)
    {
        Reset(blockOffset);
        int limit = _maxRecordSize + 4 + BgzfFrame.MaxInflatedSize; // a record start lies within one record's length of any byte
        for (int offset = 0; Ensure(offset + 1); offset++)
        {
            if (offset > limit)
            {
                throw new BamFormatException($"no BAM record starts in the {limit:N0} inflated bytes after compressed offset {blockOffset} (the file is corrupt there, or holds records longer than the record-size limit, --max-record-size)", _fileName, blockOffset);
            }

            VirtualPosition position = PositionOf(offset);
            if (position >= notBefore && IsProvenStart(offset))
            {
                // notBefore's own spelling of the same byte (an empty block before the data, or the end of a block rather
                // than the start of the next: samtools' index points at an empty block where a record follows one).
                return OffsetOf(notBefore) == offset ? notBefore : position;
            }
        }

        return null;
    }

    private void Reset(long blockOffset)
    {
        _startBlock = blockOffset;
        _frames.Seek(blockOffset);
        _blocks.Clear();
        _length = 0;
        _atEnd = false;
    }

    /// <summary>Inflates blocks until <paramref name="end"/> bytes are there; false when the file ends first.</summary>
    private bool Ensure(long end)
    {
        while (_length < end)
        {
            if (_atEnd || end > (ProofRecords + 2L) * (_maxRecordSize + 4L) + (2L * BgzfFrame.MaxInflatedSize))
            {
                return false;
            }

            long before = _frames.CompressedOffset;
            if (!_frames.TryReadFrame(_frameBuffer, out BgzfFrame frame))
            {
                _atEnd = true;
                return false;
            }

            BytesRead += _frames.CompressedOffset - before;
            if (_length + BgzfFrame.MaxInflatedSize > _data.Length)
            {
                Array.Resize(ref _data, Math.Max(_data.Length * 2, _length + BgzfFrame.MaxInflatedSize));
            }

            int inflated = BgzfBlockDecoder.Decode(_inflater, _frameBuffer.AsSpan(0, frame.Length), frame, _data.AsSpan(_length), _fileName);
            if (inflated > 0)
            {
                _blocks.Add((frame.CompressedOffset, _length, inflated));
                _length += inflated;
            }
        }

        return true;
    }

    private VirtualPosition PositionOf(int offset)
    {
        for (int i = _blocks.Count - 1; i >= 0; i--)
        {
            if (_blocks[i].Start <= offset)
            {
                return new VirtualPosition(_blocks[i].CompressedOffset, offset - _blocks[i].Start);
            }
        }

        throw new InvalidOperationException("no block holds the offset");
    }

    /// <summary>The offset in the inflated data of <paramref name="position"/>, or -1 when it is not among the blocks read.</summary>
    private int OffsetOf(VirtualPosition position)
    {
        foreach ((long compressedOffset, int start, int length) in _blocks)
        {
            if (compressedOffset == position.CompressedOffset)
            {
                return position.BlockOffset <= length ? start + position.BlockOffset : -1;
            }

            if (compressedOffset > position.CompressedOffset)
            {
                // The block the search started at, read and empty (empty blocks are never listed): its offset 0 is the
                // first listed block's first byte.
                return position.BlockOffset == 0 && start == 0 && position.CompressedOffset == _startBlock ? start : -1;
            }
        }

        return -1;
    }

    /// <summary>Whether the records from <paramref name="offset"/> on are whole and valid, <see cref="ProofRecords"/> of them or up to the end.</summary>
    private bool IsProvenStart(int offset)
    {
        if (!IsPlausible(offset))
        {
            return false;
        }

        long at = offset;
        for (int records = 0; records < ProofRecords; records++)
        {
            if (!Ensure(at + 4))
            {
                return records > 0 && at == _length; // the file ended right after a whole record
            }

            int blockSize = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan((int)at));
            if (!BamRecordFraming.IsInRange(blockSize, _maxRecordSize) || (records > 0 && !IsPlausible((int)at)) || !Ensure(at + 4 + blockSize)
                || BamRecord.TryCreate(_data.AsSpan((int)at + 4, blockSize), _referenceCount, out _) != BamRecordError.None)
            {
                return false;
            }

            at += 4 + blockSize;
            if (at - offset >= LongProofBytes)
            {
                // Long records: whole records of this many bytes, valid, are proof enough; the next one need only begin
                // plausibly (or the file end there), rather than be inflated whole (an ultra-long read is megabytes).
                return (!Ensure(at + 1) && at == _length) || IsPlausible((int)at);
            }
        }

        return true;
    }

    /// <summary>Valid whole records of at least this many bytes from a candidate prove it, with the next record's start plausible.</summary>
    private const int LongProofBytes = 64 << 10;

    /// <summary>The cheap test of a candidate: its fixed fields (SAMv1 §4.2) and read name fit a record of this header.</summary>
    private bool IsPlausible(int offset)
    {
        const int Fixed = 4 + BamRecord.FixedLength;
        if (!Ensure(offset + Fixed))
        {
            return false;
        }

        ReadOnlySpan<byte> head = _data.AsSpan(offset, Fixed);
        int blockSize = BinaryPrimitives.ReadInt32LittleEndian(head);
        int refId = BinaryPrimitives.ReadInt32LittleEndian(head[4..]);
        int pos = BinaryPrimitives.ReadInt32LittleEndian(head[8..]);
        int nameLength = head[12];
        int cigarCount = BinaryPrimitives.ReadUInt16LittleEndian(head[16..]);
        int sequenceLength = BinaryPrimitives.ReadInt32LittleEndian(head[20..]);
        int mateRefId = BinaryPrimitives.ReadInt32LittleEndian(head[24..]);
        int matePos = BinaryPrimitives.ReadInt32LittleEndian(head[28..]);
        if (!BamRecordFraming.IsInRange(blockSize, _maxRecordSize) || refId < -1 || refId >= _referenceCount
            || mateRefId < -1 || mateRefId >= _referenceCount || pos < -1 || matePos < -1 || nameLength < 1 || sequenceLength < 0
            || BamRecord.FixedLength + nameLength + (4L * cigarCount) + ((sequenceLength + 1L) >> 1) + sequenceLength > blockSize
            || !Ensure(offset + Fixed + nameLength))
        {
            return false;
        }

        // SAMv1 §1.4 says QNAME is [!-?A-~]{1,254}, but samtools reads (and BamRecord accepts) any name: spaces and
        // UTF-8 from other writers too. Refused here: control characters, and a byte after a NUL that is not a NUL.
        ReadOnlySpan<byte> name = _data.AsSpan(offset + Fixed, nameLength);
        int end = name.IndexOf((byte)0);
        ReadOnlySpan<byte> text = end < 0 ? name : name[..end];
        return !text.ContainsAnyInRange((byte)0, (byte)0x1F) && !text.Contains((byte)0x7F) && (end < 0 || !name[end..].ContainsAnyExcept((byte)0));
    }

    /// <inheritdoc />
    public void Dispose() => _frames.Dispose();
}
