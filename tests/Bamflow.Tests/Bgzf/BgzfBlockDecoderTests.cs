using System.Buffers.Binary;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

/// <summary>Each test runs on both backends with the same inputs.</summary>
public sealed class BgzfBlockDecoderTests
{
    public static TheoryData<BgzfInflaterKind> Backends => [BgzfInflaterKind.LibDeflate, BgzfInflaterKind.Managed];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Decode_RandomAndRepetitiveData_RoundTrips(BgzfInflaterKind kind)
    {
        using IBgzfInflater inflater = CreateOrSkip(kind);
        var random = new Random(20261125);
        foreach (int size in (int[])[0, 1, 100, 4096, 65280, 65536])
        {
            byte[] data = new byte[size];
            random.NextBytes(data);
            data.AsSpan(0, size / 2).Fill((byte)'A'); // half compressible, half not

            byte[] inflated = DecodeOne(inflater, BgzfTestWriter.Block(data));

            Assert.Equal(data, inflated);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Decode_FlippedBitInPayloadOrCrc_ThrowsCrcMismatchOrInflateFailed(BgzfInflaterKind kind)
    {
        using IBgzfInflater inflater = CreateOrSkip(kind);
        byte[] data = new byte[5000];
        new Random(7).NextBytes(data);
        byte[] clean = BgzfTestWriter.Block(data);

        byte[] badCrc = (byte[])clean.Clone();
        badCrc[^8] ^= 0x01;
        var crcError = Assert.Throws<BgzfFormatException>(() => DecodeOne(inflater, badCrc));
        Assert.Equal(BgzfError.CrcMismatch, crcError.Error);
        Assert.Equal(0, crcError.CompressedOffset);

        // A flipped bit in random (stored) DEFLATE data changes the output: the CRC catches it, or the stream breaks.
        for (int at = 20; at < clean.Length - 8; at += 97)
        {
            byte[] corrupt = (byte[])clean.Clone();
            corrupt[at] ^= 0x10;
            var error = Assert.Throws<BgzfFormatException>(() => DecodeOne(inflater, corrupt));
            Assert.Contains(error.Error, (BgzfError[])[BgzfError.CrcMismatch, BgzfError.InflateFailed, BgzfError.InflatedSizeMismatch]);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Decode_IsizeDisagreesWithData_ThrowsInflatedSizeMismatch(BgzfInflaterKind kind)
    {
        using IBgzfInflater inflater = CreateOrSkip(kind);
        byte[] block = BgzfTestWriter.Block("twelve bytes"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(block.Length - 4), 11);

        Assert.Equal(BgzfError.InflatedSizeMismatch, Assert.Throws<BgzfFormatException>(() => DecodeOne(inflater, block)).Error);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Decode_GarbageDeflateData_ThrowsInflateFailed(BgzfInflaterKind kind)
    {
        using IBgzfInflater inflater = CreateOrSkip(kind);
        byte[] block = BgzfTestWriter.Block("some text that compresses"u8);
        block.AsSpan(18, block.Length - 26).Fill(0xFF); // BTYPE = 11 (reserved): invalid DEFLATE

        Assert.Equal(BgzfError.InflateFailed, Assert.Throws<BgzfFormatException>(() => DecodeOne(inflater, block)).Error);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Inflate_EmptyInput_ReportsCorruptInsteadOfThrowing(BgzfInflaterKind kind)
    {
        using IBgzfInflater inflater = CreateOrSkip(kind);

        Assert.Equal(-1, inflater.Inflate([], new byte[16]));
    }

    [Fact]
    public void Create_Auto_PrefersLibDeflateWhenInstalled()
    {
        using IBgzfInflater inflater = BgzfInflater.Create();

        Assert.Equal(BgzfInflater.IsLibDeflateAvailable ? "libdeflate" : "System.IO.Compression", inflater.Name);
    }

    [Fact]
    public void Crc32_BothBackends_AgreeWithSystemIoHashing()
    {
        byte[] data = new byte[70000];
        new Random(3).NextBytes(data);
        using IBgzfInflater managed = BgzfInflater.Create(BgzfInflaterKind.Managed);
        uint expected = System.IO.Hashing.Crc32.HashToUInt32(data);

        Assert.Equal(expected, managed.Crc32(data));
        if (BgzfInflater.IsLibDeflateAvailable)
        {
            using IBgzfInflater native = BgzfInflater.Create(BgzfInflaterKind.LibDeflate);
            Assert.Equal(expected, native.Crc32(data));
        }
    }

    private static byte[] DecodeOne(IBgzfInflater inflater, byte[] block)
    {
        using var frames = new BgzfFrameReader(new MemoryStream(block));
        byte[] frameBuffer = new byte[BgzfFrame.MaxLength];
        Assert.True(frames.TryReadFrame(frameBuffer, out BgzfFrame frame));
        byte[] output = new byte[BgzfFrame.MaxInflatedSize];
        int n = BgzfBlockDecoder.Decode(inflater, frameBuffer, frame, output);
        return output[..n];
    }

    private static IBgzfInflater CreateOrSkip(BgzfInflaterKind kind)
    {
        if (kind == BgzfInflaterKind.LibDeflate && !BgzfInflater.IsLibDeflateAvailable)
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            {
                Assert.Fail("libdeflate is not installed, and CI must test both backends (apt-get install libdeflate0)");
            }

            Assert.Skip("libdeflate is not installed here");
        }

        return BgzfInflater.Create(kind);
    }
}
