using System.IO.Compression;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

/// <summary>
/// The reader stack without the engine: a parallel-inflating stream gives exactly the bytes an independent gzip
/// reader (System.IO.Compression) gives, for any thread count, segment size and read size, from a file or a pipe;
/// a damaged block fails after every byte before it.
/// </summary>
public sealed class ParallelBgzfStreamTests
{
    [Theory]
    [InlineData(1, 1 << 20, 65536, false)]
    [InlineData(2, 1, 7, false)]          // a segment per block, odd reads
    [InlineData(4, 100_000, 1, true)]     // byte by byte, from a pipe
    [InlineData(3, 4 << 20, 1 << 20, true)]
    public void Read_AnyThreadsSegmentsAndReads_GivesTheGzipReadersBytes(int threads, int segmentBytes, int readSize, bool pipe)
    {
        byte[] data = new byte[700_000];
        new Random(threads * 31 + readSize).NextBytes(data.AsSpan(0, 200_000)); // some incompressible, the rest zeros
        byte[] file = BgzfTestWriter.Compress(data, blockSize: 40_000);
        Stream input = pipe ? new TrickleStream(file, maxRead: 5000) : new MemoryStream(file);

        using var stream = new ParallelBgzfStream(input, threads, segmentBytes);
        byte[] read = ReadAll(stream, readSize);

        Assert.Equal(Gunzip(file), read);
        Assert.Equal(data.Length, stream.Position);
        Assert.False(stream.MissingEofMarker);
    }

    [CorpusTheory]
    [InlineData("htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam")]
    [InlineData("hts-specs__level-9.bam")]
    public async Task ReadAsync_CorpusFile_GivesTheGzipReadersBytes(string name)
    {
        string path = SharedData.CorpusPath(name);
        await using var stream = new ParallelBgzfStream(File.OpenRead(path), threads: 2, segmentBytes: 256 << 10, fileName: path);
        var output = new MemoryStream();

        await stream.CopyToAsync(output, TestContext.Current.CancellationToken);

        Assert.Equal(Gunzip(File.ReadAllBytes(path)), output.ToArray());
    }

    [Fact]
    public void Read_CorruptBlockInTheMiddle_ThrowsAfterEveryByteBeforeIt()
    {
        byte[] data = new byte[300_000];
        new Random(5).NextBytes(data);
        byte[] file = BgzfTestWriter.Compress(data, blockSize: 30_000);
        long[] offsets = BlockOffsets(file);
        file[offsets[6] + 20] ^= 0x55; // DEFLATE data of the 7th block: 180,000 good bytes before it

        using var stream = new ParallelBgzfStream(new MemoryStream(file), threads: 3, segmentBytes: 50_000);
        var output = new MemoryStream();
        var buffer = new byte[8192];
        var error = Assert.ThrowsAny<BgzfFormatException>(() =>
        {
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
            }
        });

        Assert.Equal(offsets[6], error.CompressedOffset);
        Assert.Equal(data.AsSpan(0, 180_000).ToArray(), output.ToArray());
    }

    [Fact]
    public void Read_FileWithoutEofMarker_SaysSoAtTheEnd()
    {
        byte[] data = new byte[100_000];
        byte[] file = BgzfTestWriter.Compress(data, blockSize: 30_000, eofMarker: false);
        using var stream = new ParallelBgzfStream(new MemoryStream(file), threads: 2, segmentBytes: 10_000);

        Assert.Equal(data.Length, ReadAll(stream, 4096).Length);
        Assert.True(stream.MissingEofMarker);
    }

    private static byte[] ReadAll(Stream stream, int readSize)
    {
        var output = new MemoryStream();
        var buffer = new byte[readSize];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            output.Write(buffer, 0, n);
        }

        return output.ToArray();
    }

    private static byte[] Gunzip(byte[] file)
    {
        using var gzip = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
        var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Each block's compressed offset, from its BSIZE (SAMv1 §4.1).</summary>
    private static long[] BlockOffsets(byte[] file)
    {
        var offsets = new List<long>();
        for (int at = 0; at < file.Length; at += System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 16)) + 1)
        {
            offsets.Add(at);
        }

        return [.. offsets];
    }
}
