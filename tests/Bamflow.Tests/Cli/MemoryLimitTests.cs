using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>
/// bamflow under a virtual memory limit (<c>ulimit -v</c>, as Slurm and SGE jobs run), through the real executable
/// as the tests run it (<c>dotnet bamflow.dll</c>, whose runtime needs more address space than the published one).
/// </summary>
public sealed class MemoryLimitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-ulimit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Convert_ParquetUnder2GiB_Succeeds()
    {
        // Before: Arrow C++'s jemalloc could not start its background thread and aborted the process (exit 134),
        // leaving the temporary file; glibc's malloc arenas had reserved most of what the runtime left.
        Assert.SkipUnless(OperatingSystem.IsLinux(), "RLIMIT_AS is Linux's");
        string output = Path.Combine(_dir, "sample.parquet");

        var result = BamflowCli.RunUnderMemoryLimit(2 * 1024 * 1024, new Dictionary<string, string>(), "convert", Conversion.Fixture("sample.bam"), "-o", output, "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(Conversion.Fixture("sample.bam")), ParquetSam.Lines(output), "parquet under ulimit -v 2 GiB");
        Assert.Equal(["sample.parquet"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Convert_ParquetUnderTinyLimit_ExitsOneNamingTheLimitAndLeavesNoFile()
    {
        // 760,000 KiB: the runtime starts (with the malloc arenas capped, as bamflow restarts itself to do), but
        // leaves some 40 MiB, too little for a Parquet run. Before: an unhandled failure (exit 134 from an
        // OutOfMemoryException, or "internal error (DllNotFoundException)") and, on a crash, the temporary file left.
        Assert.SkipUnless(OperatingSystem.IsLinux(), "RLIMIT_AS is Linux's");
        string output = Path.Combine(_dir, "sample.parquet");

        var result = BamflowCli.RunUnderMemoryLimit(760_000, new Dictionary<string, string> { ["MALLOC_ARENA_MAX"] = "2" }, "convert", Conversion.Fixture("sample.bam"), "-o", output, "--quiet");

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains("ulimit -v", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }
}
