using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>bamflow installed without its native Parquet library (the executable copied alone).</summary>
public sealed class NativeLibraryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-nolib-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Convert_ParquetWithoutNativeLibrary_ExitsOneNamingTheFileAndWhereItMustBe()
    {
        // Before: "internal error (DllNotFoundException): Unable to load shared library 'ParquetSharpNative'…".
        // The built CLI's files without runtimes/ (where every platform's ParquetSharpNative lives).
        string install = Directory.CreateDirectory(Path.Combine(_dir, "install")).FullName;
        foreach (string file in Directory.GetFiles(Path.GetDirectoryName(BamflowCli.Dll)!))
        {
            File.Copy(file, Path.Combine(install, Path.GetFileName(file)));
        }

        string output = Path.Combine(_dir, "sample.parquet");
        var result = BamflowCli.RunDll(Path.Combine(install, "bamflow.dll"), "convert", Conversion.Fixture("sample.bam"), "-o", output, "--quiet");

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("ParquetSharpNative", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(install, "runtimes"), result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.Equal([install], Directory.GetFileSystemEntries(_dir));
    }
}
