using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Bamflow.Bam;
using Bamflow.Bgzf;

namespace Bamflow.Tests.Bam.Index;

/// <summary>
/// A test oracle independent of the engine: the whole BAM inflated block by block (System.IO.Compression), a map from
/// each block's compressed offset to its place in the inflated bytes, and every record's start. Reads the records of
/// index ranges the way htslib's iterator does (records starting in [start, end)), checking that every range starts on
/// a record, and counts the compressed bytes the ranges touch.
/// </summary>
internal sealed class FlatBam
{
    private readonly Dictionary<long, long> _blockStarts = [];
    private readonly List<(long Compressed, long Inflated, int Length)> _blocks = [];
    private readonly byte[] _data;
    private readonly long[] _recordStarts;
    private readonly long _headerEnd;

    public FlatBam(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        CompressedLength = file.Length;
        var inflated = new MemoryStream();
        long offset = 0;
        while (offset + 28 <= file.Length)
        {
            int blockSize = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan((int)offset + 16)) + 1; // BSIZE + 1 (SAMv1 §4.1)
            _blockStarts[offset] = inflated.Length;
            _blocks.Add((offset, inflated.Length, blockSize));
            using (var deflate = new DeflateStream(new MemoryStream(file, (int)offset + 18, blockSize - 26), CompressionMode.Decompress))
            {
                deflate.CopyTo(inflated);
            }

            offset += blockSize;
        }

        _blockStarts[offset] = inflated.Length; // the end of the file
        _data = inflated.ToArray();
        using BamReader reader = BamReader.Open(path);
        Header = reader.Header;
        int textLength = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(4));
        long at = 8 + textLength;
        int referenceCount = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan((int)at));
        at += 4;
        for (int i = 0; i < referenceCount; i++)
        {
            at += 4 + BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan((int)at)) + 4;
        }

        _headerEnd = at;
        var starts = new List<long>();
        while (at < _data.Length)
        {
            starts.Add(at);
            at += 4 + BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan((int)at));
        }

        _recordStarts = [.. starts];
    }

    public BamHeader Header { get; }

    public long CompressedLength { get; }

    public int RecordCount => _recordStarts.Length;

    /// <summary>The records of the whole file, or of the ranges, in order, as indexes into the record list.</summary>
    public IEnumerable<int> Records(IReadOnlyList<BgzfRange>? ranges)
    {
        if (ranges is null)
        {
            for (int i = 0; i < _recordStarts.Length; i++)
            {
                yield return i;
            }

            yield break;
        }

        foreach (BgzfRange range in ranges)
        {
            long start = range.Start.Value == 0 ? _headerEnd : Flat(range.Start);
            long end = range.End == BgzfRange.EndOfFile ? _data.Length : FlatEnd(range.End);
            int first = Array.BinarySearch(_recordStarts, start);
            Assert.True(first >= 0, $"range {range} does not start on a record");
            for (int i = first; i < _recordStarts.Length && _recordStarts[i] < end; i++)
            {
                yield return i;
            }
        }
    }

    /// <summary>The compressed bytes of the blocks the ranges touch.</summary>
    public long BytesRead(IReadOnlyList<BgzfRange>? ranges)
    {
        if (ranges is null)
        {
            return CompressedLength;
        }

        var touched = new HashSet<long>();
        foreach (BgzfRange range in ranges)
        {
            long endOffset = range.End == BgzfRange.EndOfFile ? CompressedLength : range.End.CompressedOffset;
            foreach ((long compressed, _, _) in _blocks)
            {
                if (compressed >= range.Start.CompressedOffset && compressed <= endOffset)
                {
                    touched.Add(compressed);
                }
            }
        }

        return _blocks.Where(b => touched.Contains(b.Compressed)).Sum(b => (long)b.Length);
    }

    public BamRecord Record(int index)
    {
        long at = _recordStarts[index];
        int size = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan((int)at));
        BamRecordError error = BamRecord.TryCreate(_data.AsSpan((int)at + 4, size), Header.References.Count, out BamRecord record);
        Assert.Equal(BamRecordError.None, error);
        return record;
    }

    public string Sam(int index)
    {
        var buffer = new TextBuffer();
        SamFormatter.AppendRecord(Record(index), Header, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Where records stop for a range's end: htslib compares each record's virtual offset with the end and never seeks
    /// there, so an end inside a block (samtools__11_target.bam.bai ends its chunks at 1926:0, inside the BAM's EOF block
    /// at 1909: the index was made from a copy compressed differently) takes the records of the blocks before it.
    /// </summary>
    private long FlatEnd(VirtualPosition position)
    {
        if (_blockStarts.ContainsKey(position.CompressedOffset))
        {
            return Flat(position);
        }

        foreach ((long compressed, long inflated, _) in _blocks)
        {
            if (compressed > position.CompressedOffset)
            {
                return inflated;
            }
        }

        return _data.Length;
    }

    private long Flat(VirtualPosition position)
    {
        Assert.True(_blockStarts.TryGetValue(position.CompressedOffset, out long start), $"virtual offset {position} is not at a BGZF block");
        return start + position.BlockOffset;
    }
}
