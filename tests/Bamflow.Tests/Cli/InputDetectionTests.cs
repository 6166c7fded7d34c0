using System.IO.Compression;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>An input that is not BAM is named for what it is (CRAM, SAM, plain gzip, …), with what to do: exit 1.</summary>
public sealed class InputDetectionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-detect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> CramFiles => SharedFiles("cram", "*.cram");

    public static TheoryData<string> SamFiles => SharedFiles("sam", "*.sam");

    [Theory]
    [MemberData(nameof(CramFiles))]
    public void Convert_CramFile_SaysItIsCram(string name)
    {
        string path = Path.Combine(SharedData.Require(), "data", "cram", name);

        AssertNamed(path, $"{path} is a CRAM file", "samtools view -b");
    }

    [Theory]
    [MemberData(nameof(SamFiles))]
    public void Convert_SamFile_SaysItIsSam(string name)
    {
        string path = Path.Combine(SharedData.Require(), "data", "sam", name);

        AssertNamed(path, $"{path} is SAM text", "samtools view -b");
    }

    [Theory]
    [InlineData("cram/hts-specs__0302_unmapped.cram", "standard input is a CRAM file")]
    [InlineData("sam/hts-specs__seq.pass2.sam", "standard input is SAM text")]
    public void Convert_NotBamOnStdin_SaysWhatItIs(string file, string expected)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(SharedData.Require(), "data", file));

        var result = BamflowCli.Run(input, "convert", "-", "-o", Path.Combine(_dir, "out.arrow"));

        Assert.True(result.ExitCode == 1, result.Stderr);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("-o OUT.bam -", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("gzip magic", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_BamOnStdinInSmallReads_IsReadWhole()
    {
        // The bytes read to tell the format are read again: what samtools reads from the same file.
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "out.arrow");

        var result = BamflowCli.Run(File.ReadAllBytes(input), "convert", "-", "-o", output, "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false)).ToList(), "stdin");
    }

    [Fact]
    public void Convert_SamCompressedWithBgzipOrGzip_SaysWhich()
    {
        string sam = Path.Combine(_dir, "x.sam");
        File.WriteAllBytes(sam, Samtools.Run(null, "view", "-h", "--no-PG", Conversion.Fixture("sample.bam")).Stdout);
        string bgzipped = Path.Combine(_dir, "bgzipped.sam.gz"), gzipped = Path.Combine(_dir, "gzipped.sam.gz");
        File.WriteAllBytes(bgzipped, Bgzip(sam)); // the real tool: what a user has
        File.WriteAllBytes(gzipped, Gzip(File.ReadAllBytes(sam)));

        AssertNamed(bgzipped, $"{bgzipped} is BGZF-compressed SAM text", "samtools view -b");
        AssertNamed(gzipped, $"{gzipped} is SAM text compressed with plain gzip", "samtools view -b");
    }

    [Fact]
    public void Convert_BamWithoutBgzf_SaysSo()
    {
        // The BAM's inflated content (BAM\1 …): raw, and recompressed with plain gzip.
        using var source = new GZipStream(File.OpenRead(Conversion.Fixture("sample.bam")), CompressionMode.Decompress);
        var raw = new MemoryStream();
        source.CopyTo(raw);
        string rawPath = Path.Combine(_dir, "raw.bam"), gzipPath = Path.Combine(_dir, "plain.bam.gz");
        File.WriteAllBytes(rawPath, raw.ToArray());
        File.WriteAllBytes(gzipPath, Gzip(raw.ToArray()));
        Assert.Equal(0, Samtools.Run(null, "quickcheck", rawPath).ExitCode); // htslib reads raw BAM: the file is real

        AssertNamed(rawPath, $"{rawPath} is BAM data without BGZF compression", "samtools view -b");
        AssertNamed(gzipPath, $"{gzipPath} is BAM compressed with plain gzip, not BGZF", "samtools view -b");
    }

    [Fact]
    public void Convert_EmptyFileOrDirectory_SaysWhich()
    {
        string empty = Path.Combine(_dir, "empty.bam");
        File.WriteAllBytes(empty, []);

        AssertNamed(empty, $"{empty}: file is empty", "");
        AssertNamed(_dir, $"{_dir} is a directory", "");
        var stats = BamflowCli.Run("stats", _dir);
        Assert.Equal(1, stats.ExitCode);
        Assert.Contains("is a directory", stats.Stderr, StringComparison.Ordinal);
    }

    private void AssertNamed(string input, string expected, string advice)
    {
        var result = BamflowCli.Run("convert", input, "-o", Path.Combine(_dir, "out.arrow"));

        Assert.True(result.ExitCode == 1, $"{input}: exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Contains(advice, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("gzip magic", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "out.arrow")), input);
    }

    private static byte[] Bgzip(string path)
    {
        var info = new System.Diagnostics.ProcessStartInfo("bgzip") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(path);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return compressed.ToArray();
    }

    private static TheoryData<string> SharedFiles(string folder, string pattern)
    {
        var files = new TheoryData<string>();
        string? root = SharedData.Root;
        if (root is not null && Directory.Exists(Path.Combine(root, "data", folder)))
        {
            foreach (string path in Directory.GetFiles(Path.Combine(root, "data", folder), pattern).Order(StringComparer.Ordinal))
            {
                files.Add(Path.GetFileName(path));
            }
        }
        else
        {
            files.Add("(../shared absent)"); // SharedData.Require skips it (fails under CI)
        }

        return files;
    }
}
