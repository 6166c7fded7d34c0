using Bamflow.Tests.Support;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// The CLI when the output fails (a full disk) or the input fails midway, after batches were already written:
/// exit 1, one clear line, no stack trace, and an existing target left exactly as it was.
/// </summary>
public sealed class OutputFailureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-output-failure-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("arrow")]
    [InlineData("arrow-stream")]
    public void Convert_ArrowToDevFull_ExitsOneWithTheSystemsMessage(string format)
    {
        // (Parquet into /dev/full: ParquetCliTests.)
        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", "/dev/full", "--format", format, "--quiet");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bamflow: error: No space left on device", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal); // no stack trace
        Assert.Empty(Directory.GetFiles("/dev", "*.bamflow-tmp"));
    }

    [Theory]
    [InlineData("out.arrow", "--threads", "2")]
    [InlineData("out.arrows", "--sequential", null)]
    [InlineData("out.parquet", "--threads", "2")]
    public void Convert_CorruptBlockAfterBatchesWereWritten_LeavesTheExistingTargetUntouched(string name, string option, string? value)
    {
        // A CRC error in the sample's last data block, after several batches of 100 records went to the temporary file.
        // (A truncated input into an existing target: ConvertCommandTests and ParquetCliTests.)
        byte[] file = File.ReadAllBytes(Conversion.Fixture("sample.bam"));
        List<long> blocks = TruncationTests.BlockOffsets(file);
        long lastData = blocks[^3];
        file[(int)blocks[^2] - 8] ^= 0x40; // CRC32 of the last data block
        string input = Path.Combine(_dir, "corrupt.bam");
        File.WriteAllBytes(input, file);
        string output = Path.Combine(_dir, name);
        File.WriteAllText(output, "an older file that must survive");

        string[] arguments = ["convert", input, "-o", output, "--batch-size", "100", option, .. value is null ? Array.Empty<string>() : [value]];
        var result = BamflowCli.Run(arguments);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"CRC mismatch in BGZF block at compressed offset {lastData}", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("an older file that must survive", File.ReadAllText(output));
        Assert.Equal([input, output], Directory.GetFiles(_dir).Order(StringComparer.Ordinal));
    }
}
