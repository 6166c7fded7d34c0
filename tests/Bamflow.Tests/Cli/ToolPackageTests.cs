using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>
/// The install README gives: <c>dotnet pack</c> makes the bamflow .NET tool, <c>dotnet tool install</c> installs it,
/// and the installed command converts to Arrow and Parquet (whose native library must come with it). Offline: the
/// package source is the folder the pack wrote, and a private package cache keeps an older package of the same
/// version from being installed instead.
/// </summary>
public sealed class ToolPackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PackAndToolInstall_Sample_InstalledCommandWritesArrowAndParquet()
    {
        string packages = Path.Combine(_dir, "packages");
        string tools = Path.Combine(_dir, "tools");
        string config = Path.Combine(_dir, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_dir, "cache")}" /></config>
              <packageSources><clear /><add key="bamflow" value="{packages}" /></packageSources>
            </configuration>
            """);

        // The build the tests already use (no second build of the solution while other tests run its output).
        var pack = BamflowCli.RunProgram("dotnet", _dir, 300, "pack", Path.Combine(SharedData.RepositoryRoot, "src", "Bamflow.Cli"),
            "-c", BamflowCli.Configuration, "--no-build", "-o", packages);
        Assert.True(pack.ExitCode == 0, pack.StdoutText + pack.Stderr);
        Assert.DoesNotContain("warning", pack.StdoutText, StringComparison.OrdinalIgnoreCase);

        var install = BamflowCli.RunProgram("dotnet", _dir, 120, "tool", "install", "--tool-path", tools, "--configfile", config, "bamflow");
        Assert.True(install.ExitCode == 0, install.StdoutText + install.Stderr);

        string bamflow = Path.Combine(tools, OperatingSystem.IsWindows() ? "bamflow.exe" : "bamflow");
        string sample = Conversion.Fixture("sample.bam");
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(sample);
        string arrow = Path.Combine(_dir, "sample.arrow");
        string parquet = Path.Combine(_dir, "sample.parquet");
        foreach (string output in (string[])[arrow, parquet])
        {
            var run = BamflowCli.RunProgram(bamflow, _dir, 60, "convert", sample, "-o", output, "--quiet");
            Assert.True(run.ExitCode == 0, $"{output}: {run.Stderr}");
        }

        ArrowSam.AssertSame(expected, [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(arrow), stream: false))], "installed tool, Arrow");
        ArrowSam.AssertSame(expected, ParquetSam.Lines(parquet), "installed tool, Parquet");
    }
}
