using System.Text.Json;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>
/// An output never overwrites the input or another output, however the paths are spelled (exit 2), and the
/// messages for bad output names and unwritable places name what the user typed.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OutputSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-output-safety-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string[]> SameFiles => new()
    {
        { "x.bam", ["-o", "x.bam"] },                                      // the input itself
        { "./x.bam", ["-o", "../{dir}/x.bam"] },                           // relative, through ..
        { "x.bam", ["-o", "link.bam"] },                                   // a symbolic link to it
        { "x.bam", ["-o", "hard.bam"] },                                   // a hard link to it
        { "x.arrow", [] },                                                 // the default name of an input already named .arrow
        { "x.parquet", ["--format", "parquet"] },                          // ... or .parquet with --format parquet
        { "x.bam", ["-o", "out.arrow", "--summary-json", "x.bam"] },       // the summary over the input
        { "x.bam", ["-o", "out.arrow", "--summary-json", "./out.arrow"] }, // the summary over the output (neither exists yet)
        { "x.bam", ["-o", "out.arrow", "--summary-json", "link.bam"] },    // the summary through a link to the input
    };

    [Theory]
    [MemberData(nameof(SameFiles))]
    public void Convert_OutputIsTheInputOrAnotherOutput_ExitsTwoAndTouchesNothing(string input, string[] options)
    {
        byte[] bam = File.ReadAllBytes(Conversion.Fixture("sample.bam"));
        foreach (string name in new[] { "x.bam", "x.arrow", "x.parquet" })
        {
            File.WriteAllBytes(Path.Combine(_dir, name), bam);
        }

        File.CreateSymbolicLink(Path.Combine(_dir, "link.bam"), "x.bam");
        using (var ln = System.Diagnostics.Process.Start("ln", [Path.Combine(_dir, "x.bam"), Path.Combine(_dir, "hard.bam")]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        string[] before = [.. Directory.GetFileSystemEntries(_dir).Order(StringComparer.Ordinal)];
        string dirName = Path.GetFileName(_dir);

        var result = BamflowCli.RunInDirectory(_dir, ["convert", input, .. options.Select(o => o.Replace("{dir}", dirName, StringComparison.Ordinal))]);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains("is the same file as", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(_dir).Order(StringComparer.Ordinal));
        foreach (string name in new[] { "x.bam", "x.arrow", "x.parquet" })
        {
            Assert.Equal(bam, File.ReadAllBytes(Path.Combine(_dir, name)));
        }
    }

    [Fact]
    public void Convert_StandardOutputOpenedOnTheInput_ExitsTwoAndTouchesNothing()
    {
        string input = Path.Combine(_dir, "x.bam");
        byte[] bam = File.ReadAllBytes(Conversion.Fixture("sample.bam"));
        File.WriteAllBytes(input, bam);

        var result = BamflowCli.RunWithRedirections($">> '{input}'", "convert", input, "-o", "-");

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains("is the same file as", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(bam, File.ReadAllBytes(input));
    }

    [Fact]
    public void Convert_DistinctOutputs_AreNotRefused()
    {
        string output = Path.Combine(_dir, "x.arrow");
        string json = Path.Combine(_dir, "x.json");

        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output, "--summary-json", json, "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var summary = JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.Equal(new FileInfo(output).Length, summary.RootElement.GetProperty("output_bytes").GetInt64());
    }

    [Theory]
    [InlineData("-o", "")]
    [InlineData("--summary-json", "")]
    [InlineData("--tags", ",,,")]
    [InlineData("--tags", " , ")]
    public void Convert_EmptyNameOrTagList_IsAUsageError(string option, string value)
    {
        string[] output = option == "-o" ? [] : ["-o", Path.Combine(_dir, "x.arrow")];
        var result = BamflowCli.Run(["convert", Conversion.Fixture("sample.bam"), .. output, option, value]);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Convert_MissingOutputDirectory_NamesTheTargetNotTheTemporaryFile()
    {
        string output = Path.Combine(_dir, "missing", "x.arrow");

        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot write '{output}'", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("bamflow-tmp", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_ReadOnlyOutputDirectory_NamesTheTargetNotTheTemporaryFile()
    {
        if (Environment.UserName == "root")
        {
            Assert.Skip("root writes into a read-only directory");
        }

        string directory = Directory.CreateDirectory(Path.Combine(_dir, "read-only")).FullName;
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            string output = Path.Combine(directory, "x.arrow");

            var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"cannot write '{output}'", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("bamflow-tmp", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void Convert_ReplacingATarget_KeepsItsMode()
    {
        string output = Path.Combine(_dir, "x.arrow");
        File.WriteAllText(output, "older");
        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead; // 640
        File.SetUnixFileMode(output, mode);

        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output, "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.NotEqual("older", File.ReadAllText(output));
        Assert.Equal(mode, File.GetUnixFileMode(output));
    }

    [Fact]
    public void Convert_SummaryJsonCannotBeWritten_FailsBeforeTheOutputIsReplaced()
    {
        string output = Path.Combine(_dir, "x.arrow");
        File.WriteAllText(output, "an older file that must survive");

        var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output, "--summary-json", Path.Combine(_dir, "missing", "s.json"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("s.json", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("an older file that must survive", File.ReadAllText(output));
        Assert.Equal([output], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Convert_HeaderTextTooLargeToHold_SaysSoAndNamesTheSize()
    {
        // A valid BAM whose header text is 1.2 GB (in 2 MB: its BGZF blocks are all alike). Before the limit this
        // failed with "out of memory; try fewer --threads" after inflating it all.
        const int textLength = 1_200_000_000;
        const int payload = 65280;
        string input = Path.Combine(_dir, "huge-header.bam");
        using (var file = File.Create(input))
        {
            byte[] start = [.. "BAM\u0001"u8, .. BitConverter.GetBytes(textLength), .. "@HD\tVN:1.6\n@CO\t"u8];
            byte[] first = [.. start, .. Enumerable.Repeat((byte)'A', payload - start.Length)];
            file.Write(BgzfTestWriter.Block(first));
            long written = first.Length - 8; // bytes of the text so far
            byte[] middle = BgzfTestWriter.Block(Enumerable.Repeat((byte)'A', payload).ToArray());
            for (; written + payload < textLength - 1; written += payload)
            {
                file.Write(middle);
            }

            byte[] last = [.. Enumerable.Repeat((byte)'A', (int)(textLength - 1 - written)), (byte)'\n', 0, 0, 0, 0]; // text end, n_ref = 0
            file.Write(BgzfTestWriter.Block(last));
            file.Write(BgzfTestWriter.EofBlock);
        }

        var result = BamflowCli.Run("convert", input, "-o", Path.Combine(_dir, "x.arrow"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("header text is too large: 1,200,000,000 bytes (l_text)", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("out of memory", result.Stderr, StringComparison.Ordinal);
    }
}
