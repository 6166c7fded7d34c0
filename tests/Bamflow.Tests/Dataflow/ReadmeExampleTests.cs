using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>The library example of README.md, compiled and run: if it breaks, README is wrong.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task ReadmeLibraryExample_ConvertsTheSample()
    {
        string outputPath = Path.Combine(Path.GetTempPath(), $"readme-{Guid.NewGuid():N}.arrow");
        try
        {
            long records = await ReadmeExample(Conversion.Fixture("sample.bam"), outputPath);

            Assert.Equal(2023, records);
            Assert.Equal(2023, ArrowSam.ReadAll(File.ReadAllBytes(outputPath), stream: false).Sum(b => b.Length));
        }
        finally
        {
            File.Delete(outputPath);
        }
    }

    private static async Task<long> ReadmeExample(string inputPath, string outputPath)
    {
        // --- README: library example (keep in sync) ---
        using BamReader reader = BamReader.Open(inputPath);
        var engine = new BamArrowPipeline(
            new ConversionOptions { IncludeQuality = false, TagMode = TagMode.Explicit, Tags = ["NM", "MD", "RG"] },
            new PipelineOptions { Threads = Environment.ProcessorCount });

        await using OutputTarget output = OutputTarget.Open(outputPath);     // temp file + rename on commit
        await using var sink = new ArrowIpcSink(output.Stream, ArrowIpcFormat.File);
        ConversionSummary summary = await engine.RunAsync(reader, sink);
        await output.CommitAsync();                                          // only now does outputPath appear
        Console.WriteLine($"{summary.Records} records in {summary.Elapsed.TotalSeconds:F2} s");
        // --- end of README example ---
        return summary.Records;
    }
}
