using System.Buffers.Binary;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

/// <summary><see cref="BgzfSegment.InflateFrame"/>: a pure inflate that checks each block, against data made by <see cref="BgzfTestWriter"/>.</summary>
public sealed class BgzfSegmentTests
{
    [Theory]
    [InlineData("crc", BgzfError.CrcMismatch)]
    [InlineData("isize", BgzfError.InflatedSizeMismatch)]
    [InlineData("deflate", BgzfError.InflateFailed)]
    public void InflateFrame_CorruptBlock_ThrowsWithThatBlocksOffsetAndTheOthersInflate(string damage, BgzfError expected)
    {
        byte[] data = Enumerable.Range(0, 12 * 5000).Select(i => (byte)(i * 31 >> 3)).ToArray();
        byte[] file = BgzfTestWriter.Compress(data, blockSize: 5000);
        var oracle = new BgzfSegmentOracle(file);
        BgzfSegmentOracle.Block bad = oracle.Blocks[7];
        switch (damage)
        {
            case "crc": file[bad.NextOffset - 8] ^= 0x01; break;                                              // CRC32
            case "isize": BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan((int)bad.NextOffset - 4), 4999); break; // ISIZE
            default: file[bad.Offset + 18] = 0xff; break;                                                      // CDATA: BTYPE 11, reserved
        }

        using var reader = new BgzfSegmentReader(new MemoryStream(file), "crc.bam");
        var segment = new BgzfSegment();
        Assert.True(reader.TryRead(segment, 1 << 20));
        Assert.Null(segment.ReadError); // the reader does not inflate: the block is whole
        using IBgzfInflater inflater = BgzfInflater.Create();
        byte[] inflated = new byte[segment.TotalInflatedLength + BgzfFrame.MaxInflatedSize];

        for (int i = 0; i < segment.FrameCount; i++)
        {
            if (segment.Frame(i).CompressedOffset == bad.Offset)
            {
                var error = Assert.Throws<BgzfFormatException>(() => segment.InflateFrame(i, inflater, inflated.AsSpan(segment.InflatedStart(i)), "crc.bam"));
                Assert.Equal((expected, (long?)bad.Offset, "crc.bam"), (error.Error, error.CompressedOffset, error.FileName));
                continue;
            }

            Assert.Equal(segment.Frame(i).InflatedLength, segment.InflateFrame(i, inflater, inflated.AsSpan(segment.InflatedStart(i))));
            Assert.True(segment.Frame(i).IsEofMarker ||data.AsSpan(i * 5000, 5000).SequenceEqual(inflated.AsSpan(segment.InflatedStart(i), segment.Frame(i).InflatedLength)), $"block {i}");
        }
    }

    [Fact]
    public void PositionAt_EmptyBlockBetweenTwo_TheByteIsTheNextBlocks()
    {
        // SAMv1 §4.1: blocks of 100, 0 and 100 bytes; byte 100 is the third block's first.
        byte[] file = [.. BgzfTestWriter.Block(new byte[100]), .. BgzfTestWriter.Block([]), .. BgzfTestWriter.Block(new byte[100])];
        var oracle = new BgzfSegmentOracle(file);
        using var reader = new BgzfSegmentReader(new MemoryStream(file));
        var segment = new BgzfSegment();
        Assert.True(reader.TryRead(segment, 1 << 20));

        int hint = 0;
        Assert.Equal(new VirtualPosition(0, 99), segment.PositionAt(99, ref hint));
        Assert.Equal(new VirtualPosition(oracle.Blocks[2].Offset, 0), segment.PositionAt(100, ref hint));
        Assert.Equal(2, hint);
        int stale = 2;
        Assert.Equal(new VirtualPosition(0, 5), segment.PositionAt(5, ref stale));
    }
}
