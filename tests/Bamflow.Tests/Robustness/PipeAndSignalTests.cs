using System.Diagnostics;
using System.Text;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// The CLI against its environment, through the real executable: a reader that goes away (<c>| head</c>), a
/// writer that stalls, every stopping signal, a killed run's leftovers, FIFOs and devices as outputs, and closed
/// standard streams. Each case is bounded in time.
/// </summary>
public sealed class PipeAndSignalTests : IDisposable
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_prompt = TimeSpan.FromSeconds(2); // 1 s asked; slack for a loaded machine

    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-pipes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("arrow-stream")]
    [InlineData("parquet")]
    public async Task Convert_ReaderOfStdoutGoesAway_ExitsQuietlyWith141(string format)
    {
        using var input = new RepeatedBam("sample.bam", 20); // 40,460 records: MBs of output, far more than a pipe holds
        using Process process = BamflowCli.Start("convert", input.Path, "-o", "-", "--format", format);
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        byte[] head = new byte[1000];
        await process.StandardOutput.BaseStream.ReadExactlyAsync(head, TestContext.Current.CancellationToken); // `| head -c 1000`
        process.StandardOutput.Close();

        TimeSpan took = BamflowCli.WaitForExit(process, s_limit, "its reader went away");

        string messages = await stderr;
        Assert.True(process.ExitCode == 141, $"exit {process.ExitCode}: {messages}");
        Assert.DoesNotContain("written to", messages, StringComparison.Ordinal); // never a success summary
        Assert.DoesNotContain("error", messages, StringComparison.Ordinal); // quiet, as under SIGPIPE
        Assert.True(took < s_prompt, $"stopping took {took}");
    }

    [Theory]
    [InlineData("stats")]
    [InlineData("schema")]
    public async Task ResultCommand_ReaderOfStdoutGoneBeforeTheResult_ExitsQuietlyWith141(string command)
    {
        using Process process = BamflowCli.Start(command, Conversion.Fixture("sample.bam"));
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        process.StandardOutput.Close(); // `| head -1` that has already exited when the result comes

        BamflowCli.WaitForExit(process, s_limit, "it ran");

        string messages = await stderr;
        Assert.True(process.ExitCode == 141, $"exit {process.ExitCode}: {messages}");
        Assert.Empty(messages);
    }

    [Theory]
    [InlineData("-")]
    [InlineData("fifo")]
    public async Task Convert_SigtermWhileTheWriterIsBlocked_ExitsPromptlyWith143(string output)
    {
        // The output is a FIFO nobody reads (as stdout: `> fifo`, or as -o fifo): the first writes fill it and the
        // writer blocks in write(2).
        string fifo = Path.Combine(_dir, "fifo");
        MakeFifo(fifo);
        using var input = new RepeatedBam("sample.bam", 20); // the run has batches in flight behind the blocked write
        using Process process = output == "-"
            ? BamflowCli.StartWithRedirections($"> '{fifo}'", "convert", input.Path, "-o", "-")
            : BamflowCli.Start("convert", input.Path, "-o", fifo);
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);

        // Opens once bamflow (or its shell) opened the FIFO for writing; never read.
        FileStream stalledReader = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Read), TestContext.Current.CancellationToken)
            .WaitAsync(s_limit, TestContext.Current.CancellationToken);
        try
        {
            await Task.Delay(2500, TestContext.Current.CancellationToken);
            Assert.False(process.HasExited, "the writer was expected to block on the full pipe");

            BamflowCli.Signal(process, "TERM");
            TimeSpan took = BamflowCli.WaitForExit(process, s_limit, "SIGTERM");

            Assert.Equal(143, process.ExitCode);
            Assert.True(took < s_prompt, $"stopping took {took}");
            Assert.DoesNotContain("written to", await stderr, StringComparison.Ordinal);
        }
        finally
        {
            stalledReader.Dispose();
        }
    }

    [Theory]
    [InlineData("HUP", 129)]
    [InlineData("QUIT", 131)]
    [InlineData("USR1", 138)]
    [InlineData("USR2", 140)]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task Convert_StoppingSignalMidRun_RemovesTheTemporaryFileAndExits128PlusSignal(string signal, int exitCode)
    {
        string output = Path.Combine(_dir, "x.arrow");
        byte[] bam;
        using (var repeated = new RepeatedBam("sample.bam", 40)) // half of it: a few segments, so batches are written
        {
            bam = File.ReadAllBytes(repeated.Path);
        }

        using Process process = BamflowCli.Start("convert", "-", "-o", output, "--batch-size", "1000", "--tag-scan", "10");
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        process.StandardInput.BaseStream.Write(bam, 0, bam.Length / 2); // half the file, then stdin stays open
        process.StandardInput.BaseStream.Flush();
        var waited = Stopwatch.StartNew();
        while (Directory.GetFiles(_dir, "*.bamflow-tmp").Length == 0 && waited.Elapsed < s_limit)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Single(Directory.GetFiles(_dir, "*.bamflow-tmp")); // mid-run: the temporary file exists

        BamflowCli.Signal(process, signal);
        TimeSpan took = BamflowCli.WaitForExit(process, s_limit, "SIG" + signal);

        Assert.True(process.ExitCode == exitCode, $"exit {process.ExitCode}: {await stderr}");
        Assert.True(took < s_prompt, $"stopping took {took}");
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Convert_StaleTemporaryOfAGoneProcess_IsRemovedAndALiveOnesKept()
    {
        string output = Path.Combine(_dir, "x.arrow");
        int gone;
        using (Process exited = Process.Start("true"))
        {
            exited.WaitForExit();
            gone = exited.Id;
        }

        string stale = Path.Combine(_dir, $".x.arrow.{gone}.{Guid.NewGuid():N}.bamflow-tmp"); // as a SIGKILLed run leaves it
        string live = Path.Combine(_dir, $".x.arrow.{Environment.ProcessId}.{Guid.NewGuid():N}.bamflow-tmp"); // a run still going
        string other = Path.Combine(_dir, $".y.arrow.{gone}.{Guid.NewGuid():N}.bamflow-tmp"); // another target's
        File.WriteAllText(stale, "left by a killed run");
        File.WriteAllText(live, "being written");
        File.WriteAllText(other, "not ours to judge");

        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output, "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.False(File.Exists(stale), "the stale temporary file of a process that is gone is still there");
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public async Task Convert_IpcFileFormatIntoAFifo_IsReadableAndMatchesSamtools()
    {
        string input = Conversion.Fixture("sample.bam");
        string fifo = Path.Combine(_dir, "fifo");
        MakeFifo(fifo);
        Task<byte[]> read = Task.Run(() => File.ReadAllBytes(fifo), TestContext.Current.CancellationToken);

        var result = BamflowCli.Run("convert", input, "-o", fifo, "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        byte[] ipc = await read.WaitAsync(s_limit, TestContext.Current.CancellationToken);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), [.. ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false))], "IPC file into a FIFO");
    }

    [Fact]
    public void Convert_IpcFileFormatToDevStdoutAPipe_IsReadableAndMatchesSamtools()
    {
        string input = Conversion.Fixture("sample.bam");

        var result = BamflowCli.Run("convert", input, "-o", "/dev/stdout", "--quiet"); // stdout is a pipe here

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), [.. ArrowSam.Lines(ArrowSam.ReadAll(result.Stdout, stream: false))], "IPC file into /dev/stdout");
    }

    [Fact]
    public void Convert_StdoutClosedWritingAFile_Succeeds()
    {
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "x.arrow");

        var result = BamflowCli.RunWithRedirections(">&-", "convert", input, "-o", output);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("written to", result.Stderr, StringComparison.Ordinal);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false))], "stdout closed");
    }

    [Theory]
    [InlineData("stats")]
    [InlineData("schema")]
    public void ResultCommand_StdoutClosed_ExitsOneWithoutACrash(string command)
    {
        var result = BamflowCli.RunWithRedirections(">&-", command, Conversion.Fixture("sample.bam"));

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains("standard output is closed", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_StderrClosedWritingToStdout_KeepsMessagesOutOfTheData()
    {
        string input = Conversion.Fixture("sample.bam");

        var result = BamflowCli.RunWithRedirections("2>&-", "convert", input, "-o", "-");

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}");
        Assert.DoesNotContain("bamflow:", Encoding.Latin1.GetString(result.Stdout), StringComparison.Ordinal);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), [.. ArrowSam.Lines(ArrowSam.ReadAll(result.Stdout, stream: true))], "stderr closed");
    }

    [Fact]
    public void Convert_StderrClosedAndFailing_ExitsOneSilently()
    {
        string output = Path.Combine(_dir, "x.arrow");

        var result = BamflowCli.RunWithRedirections("2>&-", "convert", Path.Combine(_dir, "missing.bam"), "-o", output);

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    private static void MakeFifo(string path)
    {
        using Process mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
