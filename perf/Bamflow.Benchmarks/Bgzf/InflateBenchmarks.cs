using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Bamflow.Bgzf;

namespace Bamflow.Benchmarks.Bgzf;

/// <summary>
/// Inflating the same <see cref="BenchmarkInput.BlockCount"/> real BGZF blocks (each up to 64 KiB inflated) with
/// each backend, CRC32 and ISIZE checked, into one reused 64 KiB buffer; per operation = per block.
/// Baseline: what a first attempt does, a <see cref="GZipStream"/> per block copied into a new MemoryStream.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Inflate")]
public class InflateBenchmarks
{
    private readonly byte[] _destination = new byte[BgzfFrame.MaxInflatedSize];
    private IReadOnlyList<BgzfBlock> _blocks = [];
    private IBgzfInflater? _libDeflate;
    private IBgzfInflater? _managed;

    /// <summary>Loads the blocks and creates one inflater per backend.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _blocks = BenchmarkInput.Load().Blocks;
        if (!BgzfInflater.IsLibDeflateAvailable)
        {
            throw new PlatformNotSupportedException("libdeflate.so.0 is not installed (apt-get install libdeflate0), or BAMFLOW_NO_LIBDEFLATE is set");
        }

        _libDeflate = BgzfInflater.Create(BgzfInflaterKind.LibDeflate);
        _managed = BgzfInflater.Create(BgzfInflaterKind.Managed);
    }

    /// <summary>Disposes the inflaters.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _libDeflate?.Dispose();
        _managed?.Dispose();
    }

    /// <summary>Naive: a GZipStream over each block (BGZF blocks are gzip members), into a new MemoryStream, then an array.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchmarkInput.BlockCount)]
    public long GZipStreamPerBlock()
    {
        long checksum = 0;
        foreach (BgzfBlock block in _blocks)
        {
            using var compressed = new MemoryStream(block.Bytes, writable: false);
            using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
            using var inflated = new MemoryStream();
            gzip.CopyTo(inflated);
            checksum = Checksum.Mix(checksum, inflated.ToArray());
        }

        return checksum;
    }

    /// <summary>Bamflow's libdeflate backend (what <c>--inflater auto</c> picks when it is installed).</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.BlockCount)]
    public long LibDeflate() => InflateAll(_libDeflate!);

    /// <summary>Bamflow's System.IO.Compression backend: a DeflateStream over the raw DEFLATE data straight into the reused buffer, CRC32 by System.IO.Hashing.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.BlockCount)]
    public long Managed() => InflateAll(_managed!);

    private long InflateAll(IBgzfInflater inflater)
    {
        long checksum = 0;
        Span<byte> destination = _destination;
        foreach (BgzfBlock block in _blocks)
        {
            int length = BgzfBlockDecoder.Decode(inflater, block.Bytes, block.Frame, destination);
            checksum = Checksum.Mix(checksum, destination[..length]);
        }

        return checksum;
    }
}
