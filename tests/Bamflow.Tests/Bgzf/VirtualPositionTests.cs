using Bamflow.Bgzf;

namespace Bamflow.Tests.Bgzf;

public sealed class VirtualPositionTests
{
    [Fact]
    public void Constructor_OffsetAndBlockOffset_PacksAsSpecified()
    {
        // SAMv1 §4.1.1: coffset << 16 | uoffset
        var position = new VirtualPosition(0x1234_5678_9ABC, 0xDEF0);

        Assert.Equal(0x1234_5678_9ABC_DEF0UL, position.Value);
        Assert.Equal(0x1234_5678_9ABCL, position.CompressedOffset);
        Assert.Equal(0xDEF0, position.BlockOffset);
        Assert.Equal("20015998343868:57072", position.ToString());
    }

    [Fact]
    public void Compare_LaterBlockWithSmallerOffset_IsGreater()
    {
        var early = new VirtualPosition(100, 60000);
        var late = new VirtualPosition(101, 0);

        Assert.True(early < late);
        Assert.True(late >= early);
        Assert.Equal(-1, early.CompareTo(late));
    }

    [Theory]
    [InlineData(-1L, 0)]
    [InlineData(1L << 48, 0)]
    [InlineData(0L, -1)]
    [InlineData(0L, 65536)]
    public void Constructor_OutOfRange_Throws(long compressedOffset, int blockOffset) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtualPosition(compressedOffset, blockOffset));
}
