using System.Buffers.Binary;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

/// <summary>
/// The independent side of the segment reader's tests: a BGZF file's blocks found by walking their headers here (SAMv1
/// §4.1: XLEN, the BC subfield's BSIZE, the footer's ISIZE), its inflated bytes from System.IO.Compression's gzip reader,
/// and the map from a virtual position to an offset in those bytes. Nothing here uses Bamflow.Bgzf's readers.
/// </summary>
internal sealed class BgzfSegmentOracle
{
    private readonly Dictionary<long, int> _blockByOffset = [];

    public BgzfSegmentOracle(byte[] file)
    {
        File = file;
        long p = 0;
        int inflated = 0;
        while (p + 18 <= file.Length)
        {
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan((int)p + 10));
            int blockLength = -1;
            for (int q = (int)p + 12; q + 4 <= p + 12 + extraLength; q += 4 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(q + 2)))
            {
                if (file[q] == 'B' && file[q + 1] == 'C')
                {
                    blockLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(q + 4)) + 1;
                }
            }

            if (blockLength < 0 || p + blockLength > file.Length)
            {
                break; // a cut or foreign block: the blocks before it are the file's
            }

            int inflatedLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan((int)p + blockLength - 4));
            _blockByOffset[p] = Blocks.Count;
            Blocks.Add(new Block(p, blockLength, inflated, inflatedLength));
            inflated += inflatedLength;
            p += blockLength;
        }

        InflatedLength = inflated;
    }

    /// <summary>A block of the file: where it is and where its inflated bytes are in the whole inflated stream.</summary>
    public sealed record Block(long Offset, int Length, int InflatedStart, int InflatedLength)
    {
        public long NextOffset => Offset + Length;
    }

    public byte[] File { get; }

    public List<Block> Blocks { get; } = [];

    public int InflatedLength { get; }

    /// <summary>Whether the last block is the 28-byte EOF marker.</summary>
    public bool EndsWithEofMarker => Blocks.Count > 0 && File.AsSpan((int)Blocks[^1].Offset, Blocks[^1].Length).SequenceEqual(BgzfTestWriter.EofBlock);

    /// <summary>The whole inflated stream, from the gzip reader of System.IO.Compression (the blocks are gzip members).</summary>
    public byte[] Inflated() => LargeBam.Inflate(File);

    public Block BlockAt(long compressedOffset) => Blocks[_blockByOffset[compressedOffset]];

    /// <summary>The offset in the inflated stream of virtual position <paramref name="position"/> (the end of the file for <see cref="BgzfRange.EndOfFile"/>).</summary>
    public int InflatedOffset(VirtualPosition position)
    {
        if (position == BgzfRange.EndOfFile || position.CompressedOffset >= File.Length)
        {
            return InflatedLength;
        }

        Block block = BlockAt(position.CompressedOffset);
        return block.InflatedStart + position.BlockOffset;
    }

    /// <summary>Every virtual position that names a byte: (block, offset) with offset below the block's ISIZE.</summary>
    public VirtualPosition RandomPosition(Random random)
    {
        Block[] withBytes = [.. Blocks.Where(b => b.InflatedLength > 0)];
        Block block = withBytes[random.Next(withBytes.Length)];
        return new VirtualPosition(block.Offset, random.Next(block.InflatedLength));
    }
}
