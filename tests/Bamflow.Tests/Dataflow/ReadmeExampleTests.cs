using System.Text.RegularExpressions;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>
/// The library example of README.md, compiled from README.md itself (src/Samples/ReadmeLibrary) and run: if it
/// breaks, README is wrong.
/// </summary>
public sealed partial class ReadmeExampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-readme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadmeLibraryExample_ConvertsTheSample()
    {
        string outputPath = Path.Combine(_dir, "readme.arrow");
        string input = Conversion.Fixture("sample.bam");

        var result = BamflowCli.RunDll(BamflowCli.Built(Path.Combine("src", "Samples", "ReadmeLibrary"), "ReadmeLibrary.dll"), input, outputPath);

        Assert.True(result.ExitCode == 0, result.Stderr);
        int records = ArrowSam.SamtoolsLines(input).Count;
        Assert.Matches($"^{records} records in [0-9]+\\.[0-9]{{2}} s\n$", result.StdoutText);
        Assert.Equal(records, ArrowSam.ReadAll(File.ReadAllBytes(outputPath), stream: false).Sum(b => b.Length));
    }

    [Fact]
    public void ReadmeLibraryExample_WithRegions_ConvertsWhatSamtoolsViewSelects()
    {
        string outputPath = Path.Combine(_dir, "regions.arrow");
        string input = Path.Combine(_dir, "sample.bam");
        File.Copy(Conversion.Fixture("sample.bam"), input);
        File.SetLastWriteTimeUtc(input, DateTime.UtcNow.AddMinutes(-1));
        Assert.Equal(0, Samtools.Run(null, ["index", input]).ExitCode);
        string[] regions = ["chrB:1,000-6,000", "chrA:100-200", "*"];

        var result = BamflowCli.RunDll(BamflowCli.Built(Path.Combine("src", "Samples", "ReadmeLibrary"), "ReadmeLibrary.dll"), [input, outputPath, .. regions]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        // The example leaves out qual and most tags: the records are compared by QNAME, FLAG, RNAME, POS and CIGAR.
        static string Key(ArrowSam.Line line) => string.Join('\t', line.Fields.Split('\t').Take(6));
        List<string> expected = [.. ArrowSam.SamtoolsLines(input, regions).Select(Key)];
        Assert.True(expected.Count > 100, $"{expected.Count} records");
        Assert.Equal(expected, [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(outputPath), stream: false)).Select(Key)]);
    }

    [Fact]
    public void ReadmeLibraryExample_IsTheProgramThatWasBuilt()
    {
        // The build takes the first csharp block after "## Library"; the program it wrote is that block, as it is now.
        string readme = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        string built = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "src", "Samples", "ReadmeLibrary", "obj", "ReadmeProgram.cs")).ReplaceLineEndings("\n");

        Match example = LibraryExample().Match(readme);

        Assert.True(example.Success, "README.md has no csharp block after its '## Library' heading");
        Assert.Equal(example.Groups[1].Value, built);
    }

    [GeneratedRegex("\n## Library\n.*?\n```csharp\n(.*?\n)```", RegexOptions.Singleline)]
    private static partial Regex LibraryExample();
}
