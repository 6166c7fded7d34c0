using System.Text.Json;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>
/// The executable given a corrupt block_size in a large file (every command, every engine, a file and stdin), the
/// --max-record-size option, and --threads beyond the machine's cores.
/// </summary>
public sealed class RecordSizeLimitCliTests : IDisposable
{
    // The child's managed heap is capped, so a run that grows without bound fails (out of memory) instead of taking the machine.
    private static readonly Dictionary<string, string> s_heapLimit = new() { ["DOTNET_GCHeapHardLimit"] = "0x30000000" };

    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-record-limit-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<uint, string> Cases()
    {
        var data = new TheoryData<uint, string>();
        foreach (uint blockSize in (uint[])[0x40000000, 0x7FFFFFFF])
        {
            foreach (string command in (string[])["convert", "convert -@ 1", "convert -@ 2", "convert --sequential", "convert stdin", "convert stdin --sequential", "schema", "stats", "stats -@ 1"])
            {
                data.Add(blockSize, command);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CorruptBlockSize_SecondRecordBeforeGigabytesOfData_ExitsOneAtOnceNamingTheRecord(uint blockSize, string command)
    {
        // The sample's records (record 2's block_size corrupt), then 2.2 GiB of inflated zeros (3.6 MB of BGZF blocks):
        // there is more than the record claims, so only the record size limit stops the read.
        var bam = new LargeBam(1);
        byte[] zeroBlock = BgzfTestWriter.Block(new byte[65280]);
        string path = Path.Combine(_dir, "corrupt.bam");
        using (FileStream file = File.Create(path))
        {
            file.Write(BgzfTestWriter.Compress(bam.Inflated(1, blockSize), eofMarker: false));
            for (long inflated = 0; inflated < 2.2 * (1L << 30); inflated += 65280)
            {
                file.Write(zeroBlock);
            }

            file.Write(BgzfTestWriter.EofBlock);
        }

        string output = Path.Combine(_dir, "out.arrow");
        string[] words = command.Split(' ');
        bool stdin = words.Contains("stdin");
        string[] arguments = words[0] == "convert"
            ? ["convert", stdin ? "-" : path, "-o", stdin ? "-" : output, "--quiet", .. words.Skip(1).Where(w => w != "stdin")]
            : [words[0], path, .. words.Skip(1)];
        var started = System.Diagnostics.Stopwatch.StartNew();

        BamflowCli.Result result = BamflowCli.RunWith(s_heapLimit, stdin ? File.ReadAllBytes(path) : null, arguments);

        Assert.True(result.ExitCode == 1, $"{command}: exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains("block_size", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("in record 2 at virtual offset 0:", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("out of memory", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output), $"{command}: an output was committed");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"{command}: took {started.Elapsed.TotalSeconds:F1} s");
    }

    [Theory]
    [InlineData("2G")]
    [InlineData("32")]
    [InlineData("64X")]
    [InlineData("-1")]
    public void MaxRecordSize_OutOfRangeOrNotASize_UsageError(string value)
    {
        foreach (string command in (string[])["convert", "schema", "stats"])
        {
            BamflowCli.Result result = BamflowCli.Run(command, Conversion.Fixture("sample.bam"), "--max-record-size", value);

            Assert.True(result.ExitCode == 2, $"{command} --max-record-size {value}: exit {result.ExitCode}: {result.Stderr}");
            Assert.Contains("--max-record-size", result.Stderr + result.StdoutText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void MaxRecordSize_BelowTheSampleRecords_ExitsOneNamingTheFirst_AndAboveThem_Converts()
    {
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "sample.arrow");

        BamflowCli.Result small = BamflowCli.Run("convert", input, "-o", output, "--max-record-size", "100");
        BamflowCli.Result large = BamflowCli.Run("convert", input, "-o", output, "--max-record-size", "1K");

        Assert.True(small.ExitCode == 1, small.Stderr);
        Assert.Contains("in record 1 at virtual offset", small.Stderr, StringComparison.Ordinal);
        Assert.True(large.ExitCode == 0, large.Stderr);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false))], "--max-record-size 1K");
    }

    [Fact]
    public void Threads_FarBeyondTheCores_ReducedToTheCoresWithANotice_NoMoreMemoryThanTheCores()
    {
        // About 100 MB of inflated records: a dozen 8 MiB segments, more than the run at the cores' count holds at once.
        using var input = new RepeatedBam("sample.bam", 200);
        int cores = Environment.ProcessorCount;
        (BamflowCli.Result atCores, JsonElement atCoresJson) = Convert(input.Path, cores);
        (BamflowCli.Result many, JsonElement manyJson) = Convert(input.Path, 64);

        Assert.True(many.ExitCode == 0, many.Stderr);
        if (cores < 64)
        {
            Assert.Contains($"64 threads requested on a machine with {cores} cores: using {cores}", many.Stderr, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("threads requested", atCores.Stderr, StringComparison.Ordinal);
        Assert.Equal(Math.Min(cores, 64), manyJson.GetProperty("threads").GetInt32());
        Assert.Equal(atCoresJson.GetProperty("records").GetInt64(), manyJson.GetProperty("records").GetInt64());
        long peakAtCores = atCoresJson.GetProperty("peak_process_bytes").GetInt64();
        long peakMany = manyJson.GetProperty("peak_process_bytes").GetInt64();
        Assert.True(peakMany <= peakAtCores * 5 / 4 + (16 << 20), $"--threads 64: peak {peakMany:N0} bytes; --threads {cores}: {peakAtCores:N0}");
    }

    private (BamflowCli.Result Result, JsonElement Summary) Convert(string input, int threads)
    {
        string output = Path.Combine(_dir, $"threads-{threads}.arrow");
        string json = Path.Combine(_dir, $"threads-{threads}.json");
        BamflowCli.Result result = BamflowCli.Run("convert", input, "-o", output, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-seq", "--no-qual", "--tags", "none", "--summary-json", json);
        Assert.True(result.ExitCode == 0, result.Stderr);
        File.Delete(output);
        return (result, JsonDocument.Parse(File.ReadAllBytes(json)).RootElement.Clone());
    }
}
