using System.Diagnostics;
using System.Text.Json;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>The bamflow executable, run as a user runs it: arguments, files, pipes, exit codes.</summary>
public sealed class ConvertCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Help_Root_ListsCommandsAndExitsZero()
    {
        var result = BamflowCli.Run("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("convert", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains("schema", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_Convert_DocumentsEveryOptionAndThatExplicitTagsDrop()
    {
        var result = BamflowCli.Run("convert", "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (string option in (string[])["--output", "--format", "--threads", "--batch-size", "--limit", "--no-seq", "--no-qual", "--tags", "--tag-scan", "--compression", "--quiet", "--summary-json"])
        {
            Assert.Contains(option, result.StdoutText, StringComparison.Ordinal);
        }

        Assert.Contains("DROPPED", result.StdoutText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("convert", "--no-such-option", "x.bam")]
    [InlineData("convert")]
    [InlineData("convert", "x.bam", "--threads", "-1")]
    [InlineData("convert", "x.bam", "--batch-size", "0")]
    [InlineData("convert", "x.bam", "--tags", "NM,toolong")]
    [InlineData("convert", "x.bam", "--compression", "gzip")]
    [InlineData("convert", "-")]
    [InlineData("frobnicate")]
    public void BadUsage_ExitsTwo(params string[] arguments)
    {
        var result = BamflowCli.Run(arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.NotEmpty(result.Stderr);
    }

    [Fact]
    public void Convert_Sample_WritesArrowFileThatMatchesSamtoolsAndSummarizes()
    {
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "sample.arrow");
        string json = Path.Combine(_dir, "summary.json");

        var result = BamflowCli.Run("convert", input, "-o", output, "--summary-json", json);

        Assert.True(result.ExitCode == 0, result.Stderr);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false)).ToList(), "cli sample");
        Assert.Contains("2,023 records", result.Stderr, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.Equal(2023, summary.RootElement.GetProperty("records").GetInt64());
        Assert.Equal(new FileInfo(output).Length, summary.RootElement.GetProperty("output_bytes").GetInt64());
        Assert.Equal("arrow", summary.RootElement.GetProperty("format").GetString());
        Assert.Equal(1, summary.RootElement.GetProperty("peak_batches").GetInt32()); // 2,023 records: one batch
        Assert.Equal(1, summary.RootElement.GetProperty("peak_chunks").GetInt32());
        Assert.Empty(Directory.GetFiles(_dir, "*.bamflow-tmp", SearchOption.AllDirectories));
    }

    [CorpusFact]
    public void Convert_StdinToStdout_StreamsIpc()
    {
        string input = SharedData.CorpusPath("samtools__mpileup.1.bam");

        var result = BamflowCli.Run(File.ReadAllBytes(input), "convert", "-", "-o", "-", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Empty(result.Stderr);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), ArrowSam.Lines(ArrowSam.ReadAll(result.Stdout, stream: true)).ToList(), "stdin → stdout");
    }

    [CorpusFact]
    public void Convert_LimitAndOptions_AreApplied()
    {
        string input = SharedData.CorpusPath("hts-specs__level-9.bam");
        string output = Path.Combine(_dir, "limited.arrows");

        var result = BamflowCli.Run("convert", input, "-o", output, "--limit", "100", "--no-qual", "--tags", "none", "--threads", "3", "--batch-size", "7", "--compression", "zstd", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var reader = new Apache.Arrow.Ipc.ArrowStreamReader(File.OpenRead(output), new Apache.Arrow.Compression.CompressionCodecFactory());
        int rows = 0, batches = 0;
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            rows += batch.Length;
            batches++;
            Assert.Equal(-1, batch.Schema.GetFieldIndex("qual", StringComparer.Ordinal));
            Assert.Equal(-1, batch.Schema.GetFieldIndex("tags", StringComparer.Ordinal));
        }

        Assert.Equal(100, rows);
        Assert.Equal(15, batches); // ceil(100 / 7)
    }

    [Fact]
    public void Convert_DevNull_WritesDirectlyAndLeavesTheDevice()
    {
        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", "/dev/null", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists("/dev/null"));
        Assert.False(Bamflow.Dataflow.OutputTarget.IsRegularFile("/dev/null"), "/dev/null is still a device");
        Assert.Empty(Directory.GetFiles("/dev", "*.bamflow-tmp"));
    }

    [CorpusFact]
    public void Convert_TruncatedInput_ExitsOneNamesOffsetAndLeavesNoOutput()
    {
        string output = Path.Combine(_dir, "truncated.arrow");
        File.WriteAllText(output, "an older file that must survive");

        var result = BamflowCli.Run("convert", SharedData.CorpusPath("bad/htsjdk__truncated.bam"), "-o", output);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("compressed offset 314024", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("an older file that must survive", File.ReadAllText(output));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [CorpusTheory]
    [InlineData("bad/pbbam__zero_bytes.bam")]
    [InlineData("bad/samtools__2.quickcheck.badheader.bam")]
    public void Convert_NotABam_ExitsOne(string name)
    {
        var result = BamflowCli.Run("convert", SharedData.CorpusPath(name), "-o", Path.Combine(_dir, "x.arrow"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Convert_MissingInput_ExitsOne()
    {
        var result = BamflowCli.Run("convert", Path.Combine(_dir, "absent.bam"), "-o", Path.Combine(_dir, "x.arrow"));

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [CorpusFact]
    public void Convert_MissingEofMarker_WarnsAndSucceeds()
    {
        var result = BamflowCli.Run("convert", SharedData.CorpusPath("bad/samtools__1.quickcheck.badeof.bam"), "-o", Path.Combine(_dir, "x.arrow"), "--quiet");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("EOF marker is absent", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sample.bam", new[] { "rname: dictionary<values=string, indices=int32>\n", "  NM: int64  (SAM i)\n", "  MD: string  (SAM Z)\n" })]
    [InlineData("case-tags.bam", new[] { "  NH: int64  (SAM i)\n", "  NM_uu: int64  (SAM NM:i)\n", "  nM_lu: int64  (SAM nM:i)\n", "  md_ll: string  (SAM md:mixed)\n" })] // tags that differ only in case
    public void Schema_Fixture_PrintsColumnsAndTagTypes(string fixture, string[] lines)
    {
        var result = BamflowCli.Run("schema", Conversion.Fixture(fixture));

        Assert.Equal(0, result.ExitCode);
        Assert.All(lines, line => Assert.Contains(line, result.StdoutText, StringComparison.Ordinal));
    }

    [CorpusTheory]
    [InlineData("INT", 130, "interrupted.arrow")]
    [InlineData("TERM", 143, "interrupted.arrow")]
    [InlineData("INT", 130, "interrupted.parquet")] // row groups of 50 rows: several being encoded in the background
    [InlineData("TERM", 143, "interrupted.parquet")]
    public async Task Convert_SignalWhileReadingStdin_ExitsPromptlyAndLeavesNoOutput(string signal, int exitCode, string name)
    {
        string output = Path.Combine(_dir, name);
        byte[] bam = File.ReadAllBytes(SharedData.CorpusPath("hts-specs__level-9.bam"));
        using Process process = name.EndsWith(".parquet", StringComparison.Ordinal)
            ? BamflowCli.Start("convert", "-", "-o", output, "--batch-size", "100", "--row-group-size", "50", "--threads", "2")
            : BamflowCli.Start("convert", "-", "-o", output, "--batch-size", "100");
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        process.StandardInput.BaseStream.Write(bam, 0, bam.Length / 2); // half the file, then the pipe stays open
        process.StandardInput.BaseStream.Flush();
        await Task.Delay(1500, TestContext.Current.CancellationToken);

        using (Process kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        var stopwatch = Stopwatch.StartNew();
        bool exited = process.WaitForExit(10_000);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }

        Assert.True(exited, $"bamflow did not stop after SIG{signal}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"stopping took {stopwatch.Elapsed}");
        Assert.Equal(exitCode, process.ExitCode);
        string messages = await stderr;
        Assert.Contains("interrupted", messages, StringComparison.Ordinal);
        Assert.DoesNotContain("error", messages, StringComparison.OrdinalIgnoreCase); // nothing from a writer torn down mid-run
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
