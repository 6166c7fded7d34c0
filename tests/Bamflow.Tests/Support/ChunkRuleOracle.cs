using System.Buffers.Binary;
using System.IO.Compression;

namespace Bamflow.Tests.Support;

/// <summary>
/// A second implementation of where the parallel engine's batches end (the engine's <c>ChunkRule</c>), from the file's
/// bytes alone, with .NET's own DEFLATE: segments are the BGZF blocks from the one after the header's until their
/// inflated or compressed bytes reach the budget; a record belongs to the segment it ends in; a segment's records are
/// cut into batches of at most the record limit.
/// </summary>
internal static class ChunkRuleOracle
{
    public static List<int> BatchLengths(string path, int maxBytes, int maxRecords)
    {
        byte[] file = File.ReadAllBytes(path);
        var inflated = new MemoryStream();
        var blockStart = new List<long>();   // inflated offset where each block starts
        var blockIsize = new List<int>();
        var blockLength = new List<int>();
        for (int at = 0; at < file.Length;)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 16)) + 1;
            int dataOffset = 12 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 10));
            blockStart.Add(inflated.Length);
            using (var deflate = new DeflateStream(new MemoryStream(file, at + dataOffset, length - dataOffset - 8), CompressionMode.Decompress))
            {
                deflate.CopyTo(inflated);
            }

            blockIsize.Add((int)(inflated.Length - blockStart[^1]));
            blockLength.Add(length);
            at += length;
        }

        byte[] data = inflated.ToArray();
        long p = 4;
        p += 4 + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan((int)p));
        int references = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan((int)p));
        p += 4;
        for (int i = 0; i < references; i++)
        {
            p += 4 + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan((int)p)) + 4;
        }

        // Segment ends (inflated offsets), from the first block that starts at or after the header's end.
        var segmentEnds = new List<long>();
        int block = blockStart.FindIndex(start => start >= p);
        block = block < 0 ? blockStart.Count : block;
        while (block < blockStart.Count)
        {
            long inflatedBytes = 0, compressedBytes = 0;
            while (block < blockStart.Count && inflatedBytes < maxBytes && compressedBytes < maxBytes)
            {
                inflatedBytes += blockIsize[block];
                compressedBytes += blockLength[block];
                block++;
            }

            segmentEnds.Add(block < blockStart.Count ? blockStart[block] : data.Length);
        }

        var lengths = new List<int>();
        int segment = 0, inBatch = 0;
        while (p + 4 <= data.Length)
        {
            long end = p + 4 + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan((int)p));
            while (end > segmentEnds[segment])
            {
                segment++;
                Flush();
            }

            inBatch++;
            if (inBatch == maxRecords)
            {
                Flush();
            }

            p = end;
        }

        Flush();
        return lengths;

        void Flush()
        {
            if (inBatch > 0)
            {
                lengths.Add(inBatch);
                inBatch = 0;
            }
        }
    }
}
