using BenchmarkDotNet.Attributes;
using Bamflow.Bam;
using Bamflow.Parquet;

namespace Bamflow.Benchmarks.Parquet;

/// <summary>
/// Compressing the <c>qual</c> column's bytes (Phred+33 text of <see cref="BenchmarkInput.RecordCount"/> records, what a
/// Parquet page of that column holds after its lengths) in 1 MiB pages, one zstd frame a page; per operation = per
/// record. Baseline: zstd's own compressor at level 1 (ZstdSharp, a port of libzstd: what Arrow C++'s writer does with
/// a page). Bamflow: <see cref="ZstdHuffmanEncoder"/>, Huffman-coded literals only. Setup checks that both decode back
/// to the input with ZstdSharp's decoder and prints the ratios.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("QualityCompression")]
public class QualityCompressionBenchmarks
{
    private const int PageBytes = 1 << 20;

    private readonly ZstdHuffmanEncoder _huffman = new();
    private ZstdSharp.Compressor? _zstd;
    private byte[] _qualities = [];
    private byte[] _frame = [];

    /// <summary>Collects the records' qualities as text and checks both encoders' frames.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchmarkInput input = BenchmarkInput.Load();
        var text = new List<byte>();
        int offset = 0;
        while (BenchmarkInput.NextRecord(input.Records, ref offset, input.Header.References.Count, out BamRecord record))
        {
            if (record.HasQuality)
            {
                byte[] phred = new byte[record.Quality.Length];
                QualityDecoder.ToPhred33(record.Quality, phred);
                text.AddRange(phred);
            }
        }

        _qualities = [.. text];
        _zstd = new ZstdSharp.Compressor(ParquetSinkOptions.DefaultZstdLevel);
        _frame = new byte[Math.Max(ZstdHuffmanEncoder.MaxCompressedLength(PageBytes), ZstdSharp.Compressor.GetCompressBound(PageBytes))];
        Console.WriteLine($"// qualities: {_qualities.Length} bytes; zstd level 1 {Ratio(Zstd):F2}x, Huffman-only {Ratio(Huffman):F2}x");
    }

    /// <summary>Frees the zstd context.</summary>
    [GlobalCleanup]
    public void Cleanup() => _zstd?.Dispose();

    /// <summary>Baseline: zstd level 1, a frame per page.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long ZstdLevel1() => Pages(Zstd);

    /// <summary>Bamflow: the entropy-only encoder, a frame per page.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long HuffmanLiterals() => Pages(Huffman);

    private int Zstd(ReadOnlySpan<byte> page, Span<byte> frame) => _zstd!.Wrap(page, frame);

    private int Huffman(ReadOnlySpan<byte> page, Span<byte> frame) => _huffman.Compress([], page, frame);

    private delegate int Encode(ReadOnlySpan<byte> page, Span<byte> frame);

    /// <summary>Compresses every page; returns the bytes compressed (the same for both: the check mode compares them).</summary>
    private long Pages(Encode encode)
    {
        long done = 0;
        for (int start = 0; start < _qualities.Length; start += PageBytes)
        {
            ReadOnlySpan<byte> page = _qualities.AsSpan(start, Math.Min(PageBytes, _qualities.Length - start));
            encode(page, _frame);
            done += page.Length;
        }

        return done;
    }

    /// <summary>The input's size over its compressed size, after checking every page decodes back to itself.</summary>
    private double Ratio(Encode encode)
    {
        using var decoder = new ZstdSharp.Decompressor();
        long compressed = 0;
        for (int start = 0; start < _qualities.Length; start += PageBytes)
        {
            ReadOnlySpan<byte> page = _qualities.AsSpan(start, Math.Min(PageBytes, _qualities.Length - start));
            int size = encode(page, _frame);
            if (!decoder.Unwrap(_frame.AsSpan(0, size)).SequenceEqual(page))
            {
                throw new InvalidOperationException("a compressed page does not decode back to itself");
            }

            compressed += size;
        }

        return (double)_qualities.Length / Math.Max(1, compressed);
    }
}
