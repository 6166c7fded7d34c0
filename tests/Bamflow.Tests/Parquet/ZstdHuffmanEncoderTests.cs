using System.Buffers.Binary;
using System.Diagnostics;
using Bamflow.Parquet;

namespace Bamflow.Tests.Parquet;

/// <summary>
/// The entropy-only zstd encoder, checked against independent zstd decoders: ZstdSharp (a port of the reference
/// libzstd decoder) in process and, where installed, the reference <c>zstd</c> command itself.
/// </summary>
public sealed class ZstdHuffmanEncoderTests
{
    public static TheoryData<string> Inputs() => [.. s_inputs.Keys];

    private static readonly Dictionary<string, Func<byte[]>> s_inputs = new()
    {
        ["empty"] = () => [],
        ["one byte"] = () => [(byte)'F'],
        ["one symbol repeated, 3 blocks"] = () => Enumerable.Repeat((byte)'I', (3 * ZstdHuffmanEncoder.BlockSize) + 17).ToArray(),
        ["two symbols"] = () => Random(1, 50_000, "AB"u8.ToArray()),
        ["binned qualities (9 values, Illumina-like)"] = () => Qualities(2, 5 * ZstdHuffmanEncoder.BlockSize),
        ["ASCII 0..127 uniform"] = () => Random(3, 200_000, [.. Enumerable.Range(0, 128).Select(b => (byte)b)]),
        ["byte 127 only at the end"] = () => [.. Random(4, 10_000, "ACGT"u8.ToArray()), 127],
        ["a symbol the first KiB lacks, mid-block"] = () => [.. Random(17, 5000, "ACGT"u8.ToArray()), (byte)'N', .. Random(18, 60_000, "ACGT"u8.ToArray())],
        ["17 symbols (more than the vector count handles)"] = () => Random(19, 70_000, "ABCDEFGHIJKLMNOPQ"u8.ToArray()),
        ["16 symbols"] = () => Random(20, 70_000, "ABCDEFGHIJKLMNOP"u8.ToArray()),
        ["bytes >= 128 (raw blocks)"] = () => Random(5, 300_000, [.. Enumerable.Range(0, 256).Select(b => (byte)b)]),
        ["skewed: needs length limiting"] = Skewed,
        ["block boundary - 1"] = () => Qualities(6, ZstdHuffmanEncoder.BlockSize - 1),
        ["block boundary"] = () => Qualities(7, ZstdHuffmanEncoder.BlockSize),
        ["block boundary + 1"] = () => Qualities(8, ZstdHuffmanEncoder.BlockSize + 1),
        ["short (below the Huffman minimum)"] = () => Qualities(9, 100),
        ["every length 250..270 mod 4"] = () => Qualities(10, 263),
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Compress_AnyInput_ZstdSharpDecodesItBack(string name)
    {
        byte[] input = s_inputs[name]();
        byte[] frame = Compress([], input);

        Assert.Equal(input, Decompress(frame));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Compress_WithAPrefix_DecodesToPrefixThenContent(string name)
    {
        byte[] content = s_inputs[name]();
        byte[] prefix = [0x10, 0, 0, 0, 0xFF, 0x80, 0x01, 200, 150, 0];
        byte[] frame = Compress(prefix, content);

        Assert.Equal([.. prefix, .. content], Decompress(frame));
    }

    [Fact]
    public void Compress_BinnedQualities_IsSmallerThanTheEntropyBoundAllows()
    {
        byte[] input = Qualities(11, 4 * ZstdHuffmanEncoder.BlockSize);
        byte[] frame = Compress([], input);

        // Order-0 entropy of the generator's distribution is ~1.95 bits; a Huffman code stays within 1 bit of it.
        double bitsPerByte = 8.0 * frame.Length / input.Length;
        Assert.InRange(bitsPerByte, 1.9, 2.5);
        Assert.Equal(input, Decompress(frame));
    }

    [Fact]
    public void Compress_FrameHeader_DeclaresTheContentSize()
    {
        byte[] input = Qualities(12, 70_000);
        byte[] frame = Compress([1, 2, 3], input);

        Assert.Equal(0xFD2FB528u, BinaryPrimitives.ReadUInt32LittleEndian(frame));
        Assert.Equal((uint)(input.Length + 3), BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(5)));
    }

    [Fact]
    public void Compress_ManyRandomAlphabets_RoundTrip()
    {
        var random = new Random(13);
        var encoder = new ZstdHuffmanEncoder();
        for (int trial = 0; trial < 300; trial++)
        {
            int symbols = random.Next(1, 129);
            byte[] alphabet = [.. Enumerable.Range(0, 128).OrderBy(_ => random.Next()).Take(symbols).Select(b => (byte)b)];
            // Geometric-ish weights: some symbols rare, some common.
            double[] weights = [.. alphabet.Select(_ => Math.Pow(random.NextDouble(), random.Next(1, 8)))];
            int length = random.Next(0, 3 * ZstdHuffmanEncoder.BlockSize);
            byte[] input = Draw(random, length, alphabet, weights);
            byte[] frame = new byte[ZstdHuffmanEncoder.MaxCompressedLength(length)];
            int size = encoder.Compress([], input, frame);

            Assert.True(input.AsSpan().SequenceEqual(Decompress(frame[..size])), $"trial {trial}: {symbols} symbols, {length} bytes");
        }
    }

    [Fact]
    public void Compress_ReferenceZstdCommand_DecodesTheFrame()
    {
        string? zstd = Which("zstd");
        if (zstd is null)
        {
            // .ci/run installs it: there the reference decoder must run.
            Assert.SkipWhen(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")), "the zstd command is not installed (apt-get install zstd)");
            Assert.Fail("the zstd command is not installed and CI is set (.ci/run installs it)");
        }

        byte[] input = [.. Qualities(14, (2 * ZstdHuffmanEncoder.BlockSize) + 99), .. Random(15, 1000, [.. Enumerable.Range(0, 256).Select(b => (byte)b)])];
        byte[] frame = Compress([9, 9, 9], input);
        string path = Path.Combine(Path.GetTempPath(), $"bamflow-huff-{Guid.NewGuid():N}.zst");
        File.WriteAllBytes(path, frame);
        try
        {
            var start = new ProcessStartInfo(zstd, ["-d", "-c", "-q", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process process = Process.Start(start)!;
            using var output = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(output);
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, error);
            Assert.Equal([9, 9, 9, .. input], output.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Compress(byte[] prefix, byte[] content)
    {
        byte[] frame = new byte[ZstdHuffmanEncoder.MaxCompressedLength(prefix.Length + content.Length)];
        int size = new ZstdHuffmanEncoder().Compress(prefix, content, frame);
        return frame[..size];
    }

    private static byte[] Decompress(byte[] frame)
    {
        using var decompressor = new ZstdSharp.Decompressor();
        return decompressor.Unwrap(frame).ToArray();
    }

    private static byte[] Random(int seed, int length, byte[] alphabet)
    {
        var random = new Random(seed);
        byte[] result = new byte[length];
        for (int i = 0; i < length; i++)
        {
            result[i] = alphabet[random.Next(alphabet.Length)];
        }

        return result;
    }

    /// <summary>Quality strings as a binned Illumina run has them: 9 values, most of them high.</summary>
    private static byte[] Qualities(int seed, int length) =>
        Draw(new Random(seed), length, "#',-5<AFJ"u8.ToArray(), [0.01, 0.01, 0.02, 0.03, 0.05, 0.08, 0.15, 0.35, 0.30]);

    /// <summary>Counts that double from symbol to symbol (Fibonacci-like): an unlimited Huffman code would be 20 bits deep.</summary>
    private static byte[] Skewed()
    {
        var bytes = new List<byte>();
        for (int s = 0; s < 20; s++)
        {
            bytes.AddRange(Enumerable.Repeat((byte)(40 + s), 1 << Math.Min(s, 16)));
        }

        var random = new Random(16);
        return [.. bytes.OrderBy(_ => random.Next())];
    }

    private static byte[] Draw(Random random, int length, byte[] alphabet, double[] weights)
    {
        double[] cumulative = new double[weights.Length];
        double sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            sum += weights[i];
            cumulative[i] = sum;
        }

        byte[] result = new byte[length];
        for (int i = 0; i < length; i++)
        {
            double x = random.NextDouble() * sum;
            int k = Array.BinarySearch(cumulative, x);
            result[i] = alphabet[Math.Min(k < 0 ? ~k : k, alphabet.Length - 1)];
        }

        return result;
    }

    private static string? Which(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists);
}
