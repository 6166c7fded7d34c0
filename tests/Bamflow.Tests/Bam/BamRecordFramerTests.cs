using Bamflow.Bam;

namespace Bamflow.Tests.Bam;

/// <summary><see cref="BamRecordFramer.Walk"/> on byte literals: record starts, where it stops, and a block_size out of range.</summary>
public sealed class BamRecordFramerTests
{
    // Three records of block_size 33, 40 and 33 (SAMv1 §4.2: 4 bytes of block_size, then that many), then 6 bytes of a fourth.
    private static byte[] ThreeAndAPart()
    {
        var bytes = new List<byte>();
        foreach (int size in (int[])[33, 40, 33])
        {
            bytes.AddRange(BitConverter.GetBytes(size)); // block_size, little-endian
            bytes.AddRange(Enumerable.Repeat((byte)0xAB, size));
        }

        bytes.AddRange([0x21, 0x00, 0x00, 0x00, 0xAB, 0xAB]); // block_size = 33, then 2 of its bytes
        return [.. bytes];
    }

    [Fact]
    public void Walk_WholeRecordsThenAPartialOne_StartsOfTheWholeAndStopsAtThePartial()
    {
        byte[] data = ThreeAndAPart();
        var starts = new RecordStarts();

        int end = BamRecordFramer.Walk(data, 0, 1000, starts, out bool invalid);

        Assert.Equal([0, 37, 81], Enumerable.Range(0, starts.Count).Select(i => starts[i]));
        Assert.Equal((118, false), (end, invalid));
    }

    [Theory]
    [InlineData(0, 0, 118)]
    [InlineData(37, 37, 118)]
    [InlineData(118, 118, 118)] // at the partial record: nothing whole
    public void Walk_FromARecordStart_WalksFromThere(int offset, int first, int expectedEnd)
    {
        byte[] data = ThreeAndAPart();
        var starts = new RecordStarts();

        int end = BamRecordFramer.Walk(data, offset, 1000, starts, out _);

        Assert.Equal(expectedEnd, end);
        Assert.True(starts.Count == 0 || starts[0] == first);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Walk_FewerThanFourBytesLeft_StopsBeforeThem(int left)
    {
        byte[] data = [.. ThreeAndAPart().AsSpan(0, 118 + left)];
        var starts = new RecordStarts();

        int end = BamRecordFramer.Walk(data, 0, 1000, starts, out bool invalid);

        Assert.Equal((3, 118, false), (starts.Count, end, invalid));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]   // one below the fixed fields and a NUL name
    [InlineData(41)]   // one above the limit of 40 given below
    [InlineData(-1)]
    public void Walk_BlockSizeOutOfRange_StopsAtThatRecordInvalid(int size)
    {
        byte[] data = ThreeAndAPart();
        BitConverter.GetBytes(size).CopyTo(data, 81); // the third record's block_size
        var starts = new RecordStarts();

        int end = BamRecordFramer.Walk(data, 0, 40, starts, out bool invalid);

        Assert.Equal((2, 81, true), (starts.Count, end, invalid));
    }
}
