using System.Buffers.Binary;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

public sealed partial class BgzfFrameReaderTests
{
    private static readonly byte[] s_frame = new byte[BgzfFrame.MaxLength];

    [Fact]
    public void TryReadFrame_EofMarkerLiteral_ParsesEveryField()
    {
        byte[] eof =
        [
            0x1f, 0x8b,             // ID1 ID2: gzip magic
            0x08,                   // CM = DEFLATE
            0x04,                   // FLG = FEXTRA
            0x00, 0x00, 0x00, 0x00, // MTIME
            0x00,                   // XFL
            0xff,                   // OS = unknown
            0x06, 0x00,             // XLEN = 6
            0x42, 0x43,             // SI1 SI2 = 'B' 'C'
            0x02, 0x00,             // SLEN = 2
            0x1b, 0x00,             // BSIZE = 27: the block is 28 bytes
            0x03, 0x00,             // CDATA: an empty final DEFLATE block
            0x00, 0x00, 0x00, 0x00, // CRC32 of nothing = 0
            0x00, 0x00, 0x00, 0x00, // ISIZE = 0
        ];
        using var reader = new BgzfFrameReader(new MemoryStream(eof));

        Assert.True(reader.TryReadFrame(s_frame, out BgzfFrame frame));

        Assert.Equal(new BgzfFrame(0, 28, 18, 2, 0, 0, IsEofMarker: true), frame);
        Assert.Equal(28, reader.CompressedOffset);
        Assert.False(reader.TryReadFrame(s_frame, out _));
    }

    [Fact]
    public void TryReadFrame_SeveralBlocks_ReportsOffsetsAndSizes()
    {
        byte[] a = BgzfTestWriter.Block("hello"u8), b = BgzfTestWriter.Block(new byte[65536]);
        using var reader = new BgzfFrameReader(new MemoryStream([.. a, .. b, .. BgzfTestWriter.EofBlock]));

        Assert.True(reader.TryReadFrame(s_frame, out BgzfFrame first));
        Assert.True(reader.TryReadFrame(s_frame, out BgzfFrame second));
        Assert.True(reader.TryReadFrame(s_frame, out BgzfFrame third));

        Assert.Equal((0L, a.Length, 5, false), (first.CompressedOffset, first.Length, first.InflatedLength, first.IsEofMarker));
        Assert.Equal((a.Length, b.Length, 65536), ((int)second.CompressedOffset, second.Length, second.InflatedLength));
        Assert.True(third.IsEofMarker);
        Assert.Equal(a.Length + b.Length, third.CompressedOffset);
    }

    [Fact]
    public void TryReadFrame_ExtraSubfieldBeforeBc_FindsBsize()
    {
        byte[] plain = BgzfTestWriter.Block("data"u8);
        // Insert a 4-byte foreign subfield ('X','Y', SLEN=0) before BC: XLEN 6 → 10, BSIZE + 4.
        byte[] block = [.. plain[..12], (byte)'X', (byte)'Y', 0, 0, .. plain[12..]];
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(10), 10);
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(20), (ushort)(block.Length - 1));
        using var reader = new BgzfFrameReader(new MemoryStream(block));

        Assert.True(reader.TryReadFrame(s_frame, out BgzfFrame frame));
        Assert.Equal(block.Length, frame.Length);
        Assert.Equal(22, frame.DataOffset);
    }

    [Fact]
    public void TryReadFrame_TruncatedAtEveryByte_ThrowsTruncatedWithBlockOffset()
    {
        byte[] first = BgzfTestWriter.Block("first block"u8);
        byte[] second = BgzfTestWriter.Block("second block, cut short"u8);
        byte[] file = [.. first, .. second];
        for (int cut = first.Length + 1; cut < file.Length; cut++)
        {
            using var reader = new BgzfFrameReader(new MemoryStream(file[..cut]), "cut.bam");
            Assert.True(reader.TryReadFrame(s_frame, out _));

            var error = Assert.Throws<BgzfFormatException>(() => reader.TryReadFrame(s_frame, out _));

            Assert.Equal(BgzfError.Truncated, error.Error);
            Assert.Equal(first.Length, error.CompressedOffset);
            Assert.Equal("cut.bam", error.FileName);
        }
    }

    [Fact]
    public void TryReadFrame_NotGzip_ThrowsBadMagic()
    {
        using var reader = new BgzfFrameReader(new MemoryStream("@HD\tVN:1.6\n"u8.ToArray()));

        var error = Assert.Throws<BgzfFormatException>(() => reader.TryReadFrame(s_frame, out _));

        Assert.Equal(BgzfError.BadMagic, error.Error);
        Assert.Equal(0, error.CompressedOffset);
    }

    [Fact]
    public void TryReadFrame_PlainGzipWithoutExtra_ThrowsNotBgzf()
    {
        var gz = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write("plain gzip"u8);
        }

        using var reader = new BgzfFrameReader(new MemoryStream(gz.ToArray()));

        Assert.Equal(BgzfError.NotBgzf, Assert.Throws<BgzfFormatException>(() => reader.TryReadFrame(s_frame, out _)).Error);
    }

    [Fact]
    public void TryReadFrame_ExtraWithoutBcSubfield_ThrowsNotBgzf()
    {
        byte[] block = BgzfTestWriter.Block("x"u8);
        block[12] = (byte)'Q'; // SI1 is no longer 'B'

        using var reader = new BgzfFrameReader(new MemoryStream(block));

        Assert.Equal(BgzfError.NotBgzf, Assert.Throws<BgzfFormatException>(() => reader.TryReadFrame(s_frame, out _)).Error);
    }

    [Fact]
    public void TryReadFrame_BsizeSmallerThanHeaderAndFooter_ThrowsBlockSizeOutOfRange()
    {
        byte[] block = BgzfTestWriter.Block("x"u8);
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(16), 20); // total 21 < 18 + 8

        using var reader = new BgzfFrameReader(new MemoryStream(block));

        Assert.Equal(BgzfError.BlockSizeOutOfRange, Assert.Throws<BgzfFormatException>(() => reader.TryReadFrame(s_frame, out _)).Error);
    }

    [Fact]
    public void TryReadFrame_IsizeAbove64KiB_ThrowsInflatedSizeOutOfRange()
    {
        byte[] block = BgzfTestWriter.Block("x"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(block.Length - 4), 65537);

        using var reader = new BgzfFrameReader(new MemoryStream(block));

        Assert.Equal(BgzfError.InflatedSizeOutOfRange, Assert.Throws<BgzfFormatException>(() => reader.TryReadFrame(s_frame, out _)).Error);
    }
}
