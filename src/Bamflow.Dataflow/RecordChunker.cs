using Bamflow.Arrow;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// The sequential path's chunker: cuts the records of a <see cref="BamReader"/> (which inflates on the calling
/// thread) into <see cref="RecordChunk"/>s where the parallel engine does (<see cref="ChunkRule"/>: the records that end
/// in one segment of BGZF blocks, at most a record count of them), up to an optional limit.
/// </summary>
public sealed class RecordChunker
{
    private readonly BamReader _reader;
    private readonly int _maxRecords;
    private readonly int _maxBytes;
    private readonly long _limit;
    private readonly ColumnBufferPool _buffers = ColumnBufferPool.CreatePooling();
    private readonly bool _lenient;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _pending;
    private long _sequence;

    // The segment (ChunkRule) of the last block read, and its blocks' sizes so far.
    private int _segment;
    private long _segmentInflated;
    private long _segmentCompressed;
    private bool _segmentStarted;

    // A record read that ends in a later segment than the chunk's: the first of the next chunk.
    private byte[] _held = [];
    private int _heldLength = -1;
    private Bgzf.VirtualPosition _heldPosition;
    private int _heldSegment;

    /// <summary>Creates a chunker over <paramref name="reader"/>.</summary>
    /// <param name="reader">The reader, positioned after the header.</param>
    /// <param name="maxRecords">Records per chunk at most.</param>
    /// <param name="maxBytes">The byte budget of a segment of BGZF blocks (<see cref="ChunkRule"/>).</param>
    /// <param name="limit">Stop after this many records in total; null for all.</param>
    /// <param name="lenient">Whether the chunks skip invalid records instead of failing (see <see cref="ValidationMode"/>).</param>
    public RecordChunker(BamReader reader, int maxRecords, int maxBytes, long? limit = null, bool lenient = false)
    {
        _lenient = lenient;
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _reader = reader;
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
        _limit = limit ?? long.MaxValue;
        reader.FrameRead = OnFrameRead;
    }

    /// <summary>Every block read from now on: the first ones after the header's block make the first segment.</summary>
    private void OnFrameRead(Bgzf.BgzfFrame frame)
    {
        if (_segmentStarted && ChunkRule.SegmentIsFull(_segmentInflated, _segmentCompressed, _maxBytes))
        {
            _segment++;
            _segmentInflated = _segmentCompressed = 0;
        }

        _segmentStarted = true;
        _segmentInflated += frame.InflatedLength;
        _segmentCompressed += frame.Length;
    }

    /// <summary>Records read so far.</summary>
    public long RecordsRead { get; private set; }

    /// <summary>Reads the next chunk, or returns null at the end (or the limit).</summary>
    /// <exception cref="BamFormatException">The input is malformed.</exception>
    public RecordChunk? Next(CancellationToken cancellationToken = default)
    {
        if (_pending is { } pending)
        {
            // The records before the damage have been used (and validated) by now: report it.
            _pending = null;
            pending.Throw();
        }

        if (RecordsRead >= _limit && _heldLength < 0)
        {
            return null;
        }

        var chunk = new RecordChunk(_buffers, RecordChunk.InitialCapacity(_maxRecords, _maxBytes), _maxBytes, _reader.Header.References.Count, _reader.FileName) { FirstRecordIndex = RecordsRead, Sequence = _sequence, Lenient = _lenient };
        int chunkSegment = -1;
        if (_heldLength >= 0)
        {
            chunk.Add(_held.AsSpan(0, _heldLength), _heldPosition);
            chunkSegment = _heldSegment;
            _heldLength = -1;
            RecordsRead++;
        }

        while (chunk.Count < _maxRecords && RecordsRead < _limit)
        {
            if ((chunk.Count & 1023) == 1023)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            Bgzf.VirtualPosition position = _reader.Position;
            ReadOnlySpan<byte> record;
            try
            {
                if (!_reader.TryReadBytes(out record))
                {
                    break;
                }
            }
            catch (BamFormatException e) when (chunk.Count > 0)
            {
                // Records are validated where they are used, after this read-ahead: an invalid record before this
                // damage must be reported first (as BamReader and the parallel engine do), so hand over the records
                // read so far and raise the error on the next call.
                _pending = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                break;
            }

            if (chunk.Count > 0 && _segment != chunkSegment)
            {
                // It ends in the next segment: it starts the next chunk.
                if (_held.Length < record.Length)
                {
                    _held = new byte[Math.Max(record.Length, _held.Length * 2)];
                }

                record.CopyTo(_held);
                _heldLength = record.Length;
                _heldPosition = position;
                _heldSegment = _segment;
                break;
            }

            chunkSegment = _segment;
            chunk.Add(record, position); // validated where it is used, as in the parallel engine
            RecordsRead++;
        }

        if (chunk.Count == 0)
        {
            chunk.Release();
            return null;
        }

        _sequence++;
        return chunk;
    }
}
