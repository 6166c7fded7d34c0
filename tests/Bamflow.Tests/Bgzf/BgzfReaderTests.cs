using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

public sealed class BgzfReaderTests
{
    [Fact]
    public void Read_AcrossBlocksAndEmptyBlocks_ReturnsConcatenatedData()
    {
        byte[] file = [.. BgzfTestWriter.Block("abc"u8), .. BgzfTestWriter.Block([]), .. BgzfTestWriter.EofBlock, .. BgzfTestWriter.Block("defg"u8), .. BgzfTestWriter.EofBlock];
        using var reader = new BgzfReader(new MemoryStream(file));
        byte[] all = new byte[100];

        int n = reader.Read(all);

        Assert.Equal("abcdefg"u8.ToArray(), all[..n]);
        Assert.True(reader.IsAtEnd);
        Assert.False(reader.MissingEofMarker);
    }

    [Fact]
    public void Position_WithinAndAfterBlocks_FollowsVirtualOffsetRules()
    {
        byte[] a = BgzfTestWriter.Block("0123456789"u8), b = BgzfTestWriter.Block("abcdef"u8);
        using var reader = new BgzfReader(new MemoryStream([.. a, .. b]));
        byte[] buffer = new byte[4];

        Assert.Equal(new VirtualPosition(0, 0), reader.Position);
        reader.Read(buffer);
        Assert.Equal(new VirtualPosition(0, 4), reader.Position);
        reader.Read(new byte[6]);
        Assert.Equal(new VirtualPosition(a.Length, 0), reader.Position); // a consumed block points at the next one
        reader.Read(buffer);
        Assert.Equal(new VirtualPosition(a.Length, 4), reader.Position);
    }

    [Fact]
    public void MissingEofMarker_NoEofBlock_TrueOnlyAfterTheEnd()
    {
        using var reader = new BgzfReader(new MemoryStream(BgzfTestWriter.Compress("data"u8, eofMarker: false)));

        Assert.False(reader.MissingEofMarker);
        reader.Read(new byte[10]);
        Assert.True(reader.MissingEofMarker);
    }

    [Fact]
    public void Read_CorruptSecondBlock_ThrowsWithThatBlocksOffset()
    {
        byte[] first = BgzfTestWriter.Block("fine"u8), second = BgzfTestWriter.Block("broken"u8);
        second[^8] ^= 0xFF; // CRC
        using var reader = new BgzfReader(new MemoryStream([.. first, .. second]), "x.bam");

        var error = Assert.Throws<BgzfFormatException>(() => reader.Read(new byte[100]));

        Assert.Equal(BgzfError.CrcMismatch, error.Error);
        Assert.Equal(first.Length, error.CompressedOffset);
        Assert.Equal("x.bam", error.FileName);
    }
}
