using System.Text.Json;
using Bamflow.Parquet;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Parquet;

/// <summary><c>bamflow convert … .parquet</c>, run as a user runs it, and the file read back with DuckDB.</summary>
public sealed class ParquetCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-parquet-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Convert_ParquetExtension_WritesParquetThatMatchesSamtoolsAndSummarizes()
    {
        string input = Conversion.Fixture("sample.bam");
        string output = Path.Combine(_dir, "sample.parquet");
        string json = Path.Combine(_dir, "summary.json");

        var result = BamflowCli.Run("convert", input, "-o", output, "--summary-json", json);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("PAR1"u8.ToArray(), File.ReadAllBytes(output)[..4]);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), ParquetSam.Lines(output), "cli sample.parquet");
        Assert.All(ParquetSam.RowGroups(output), g => Assert.Equal(["ZSTD"], g.Compression)); // the Parquet default
        using var summary = JsonDocument.Parse(File.ReadAllBytes(json));
        Assert.Equal("parquet", summary.RootElement.GetProperty("format").GetString());
        Assert.Equal(2023, summary.RootElement.GetProperty("records").GetInt64());
        Assert.Equal(new FileInfo(output).Length, summary.RootElement.GetProperty("output_bytes").GetInt64());
        Assert.Empty(Directory.GetFiles(_dir, "*.bamflow-tmp", SearchOption.AllDirectories));
    }

    [CorpusFact]
    public void Convert_FormatParquet_OverridesTheExtensionAndAppliesOptions()
    {
        string input = SharedData.CorpusPath("hts-specs__level-9.bam");
        string output = Path.Combine(_dir, "out.data");

        var result = BamflowCli.Run("convert", input, "-o", output, "--format", "parquet", "--compression", "snappy", "--row-group-size", "30",
            "--limit", "100", "--no-qual", "--tags", "NM,MD", "--threads", "3", "--batch-size", "7", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var groups = ParquetSam.RowGroups(output);
        Assert.Equal([30L, 30, 30, 10], groups.Select(g => g.Rows));
        Assert.All(groups, g => Assert.Equal(["SNAPPY"], g.Compression));
        Assert.DoesNotContain("qual", ParquetSam.Columns(output));
        Assert.Equal("""{"NM":"i","MD":"Z"}""", ParquetSam.KeyValueMetadata(output)["sam.tag_types"]);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(input).Take(100)
            .Select(l => new ArrowSam.Line(
                string.Join('\t', l.Fields.Split('\t').Take(10).Append("(no qual)")),
                [.. l.Tags.Where(t => t.StartsWith("NM:", StringComparison.Ordinal) || t.StartsWith("MD:", StringComparison.Ordinal))]))
            .ToList();
        ArrowSam.AssertSame(expected, ParquetSam.Lines(output), "cli --format parquet");
    }

    [CorpusFact]
    public void Convert_ParquetPlain_SeqAndQualArePlainPagesAndTheRowsTheSame()
    {
        string input = SharedData.CorpusPath("hts-specs__level-9.bam");
        string own = Path.Combine(_dir, "own.parquet"), plain = Path.Combine(_dir, "plain.parquet");

        var first = BamflowCli.Run("convert", input, "-o", own, "--quiet");
        var second = BamflowCli.Run("convert", input, "-o", plain, "--parquet-plain", "--quiet");

        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Stderr + second.Stderr);
        Assert.All(ParquetSam.RowGroups(own), g => Assert.Contains("DELTA_LENGTH_BYTE_ARRAY", g.Encodings["qual"], StringComparison.Ordinal));
        Assert.All(ParquetSam.RowGroups(plain), g =>
        {
            Assert.DoesNotContain("DELTA_LENGTH_BYTE_ARRAY", g.Encodings["seq"], StringComparison.Ordinal);
            Assert.DoesNotContain("DELTA_LENGTH_BYTE_ARRAY", g.Encodings["qual"], StringComparison.Ordinal);
        });
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), ParquetSam.Lines(plain), "--parquet-plain");
    }

    [Fact]
    public void Convert_DefaultOutputWithFormatParquet_IsTheInputNameWithParquet()
    {
        string input = Path.Combine(_dir, "sample.bam");
        File.Copy(Conversion.Fixture("sample.bam"), input);

        var result = BamflowCli.Run("convert", input, "--format", "parquet", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(2023, ParquetSam.Lines(Path.Combine(_dir, "sample.parquet")).Count);
    }

    [CorpusFact]
    public void Convert_ParquetToStdout_WorksThroughAPipe()
    {
        // Parquet is written front to back, footer last: a pipe (not seekable) is enough.
        string input = SharedData.CorpusPath("samtools__mpileup.1.bam");
        string output = Path.Combine(_dir, "stdout.parquet");

        var result = BamflowCli.Run(File.ReadAllBytes(input), "convert", "-", "-o", "-", "--format", "parquet", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        File.WriteAllBytes(output, result.Stdout);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), ParquetSam.Lines(output), "stdin → parquet on stdout");
    }

    [Theory]
    [InlineData("x.parquet", "--compression", "lz4")]
    [InlineData("x.arrow", "--compression", "snappy")]
    [InlineData("x.arrow", "--row-group-size", "1000")]
    [InlineData("x.arrow", "--parquet-plain", null)]
    [InlineData("x.parquet", "--row-group-size", "0")]
    [InlineData("x.parquet", "--compression", "gzip")]
    [InlineData("x.parquet", "--format", "orc")]
    public void Convert_OptionsThatDoNotApply_ExitTwo(string output, string option, string? value)
    {
        var result = value is null
            ? BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", Path.Combine(_dir, output), option)
            : BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", Path.Combine(_dir, output), option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.NotEmpty(result.Stderr);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [CorpusFact]
    public void Convert_TruncatedInput_ExitsOneAndLeavesTheOldFile()
    {
        string output = Path.Combine(_dir, "truncated.parquet");
        File.WriteAllText(output, "an older file that must survive");

        var result = BamflowCli.Run("convert", SharedData.CorpusPath("bad/htsjdk__truncated.bam"), "-o", output, "--batch-size", "50", "--row-group-size", "100");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("compressed offset 314024", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("an older file that must survive", File.ReadAllText(output));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void ReadmeDuckDbQueries_RunOnTheSampleAndAFileWithNmAndLowerNm()
    {
        // Every statement of the README's sql blocks, as written there, with 'sample.parquet' made from the sample and
        // 'star.parquet' from tests/fixtures/case-tags.bam (NM and nM, as STAR writes them), both absolute.
        string sample = Path.Combine(_dir, "sample.parquet");
        string star = Path.Combine(_dir, "star.parquet");
        Assert.Equal(0, BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", sample, "--quiet").ExitCode);
        Assert.Equal(0, BamflowCli.Run("convert", Conversion.Fixture("case-tags.bam"), "-o", star, "--quiet").ExitCode);
        string readme = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "README.md"));
        string[] statements =
        [
            .. readme.Split("```sql\n").Skip(1)
                .SelectMany(block => block.Split("```")[0].Split(';'))
                .Select(statement => string.Join('\n', statement.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim())
                .Where(statement => statement.Length > 0),
        ];
        // "Scaling out"'s dataset query, over a dataset of the two files (different tags: union by name), as written.
        string datasetQuery = Assert.Single(statements, s => s.Contains("'dataset/**/*.parquet'", StringComparison.Ordinal));
        statements = [.. statements.Where(s => s != datasetQuery)];
        Assert.Equal(5, statements.Length);
        string dataset = Path.Combine(_dir, "dataset");
        Assert.Equal(0, BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), Conversion.Fixture("case-tags.bam"), "-o", dataset + "/", "--quiet").ExitCode);
        using (var datasetConnection = ParquetSam.Open())
        {
            List<object?[]> rows = ParquetSam.Query(datasetConnection, datasetQuery.Replace("'dataset/**/*.parquet'", ParquetSam.Quote(Path.Combine(dataset, "**", "*.parquet")), StringComparison.Ordinal));
            Assert.Equal(["case-tags", "sample"], rows.Select(r => (string)r[0]!));
            foreach (object?[] row in rows)
            {
                List<ArrowSam.Line> lines = ArrowSam.SamtoolsLines(Conversion.Fixture((string)row[0]! + ".bam"));
                Assert.Equal(lines.Count, System.Convert.ToInt64(row[1], System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(lines.Count(l => (int.Parse(l.Fields.Split('\t')[1], System.Globalization.CultureInfo.InvariantCulture) & 4) == 0), System.Convert.ToInt64(row[2], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        using var connection = ParquetSam.Open();
        List<object?[]> Run(string marker) => ParquetSam.Query(connection, Assert.Single(statements, s => s.Contains(marker, StringComparison.Ordinal))
            .Replace("'sample.parquet'", ParquetSam.Quote(sample), StringComparison.Ordinal)
            .Replace("'star.parquet'", ParquetSam.Quote(star), StringComparison.Ordinal));

        long mapped = ArrowSam.SamtoolsLines(Conversion.Fixture("sample.bam")).Count(l => (int.Parse(l.Fields.Split('\t')[1], System.Globalization.CultureInfo.InvariantCulture) & 4) == 0);
        Assert.Equal(mapped, Run("GROUP BY rname").Sum(r => System.Convert.ToInt64(r[1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(5, Run("SELECT qname, tags.NM, tags.MD").Count);
        Assert.Equal(5, Run("SELECT tags.NM, tags.MD").Count);
        List<Dictionary<string, string>> samtools = [.. ArrowSam.SamtoolsLines(Conversion.Fixture("case-tags.bam")).Select(l => l.Tags.ToDictionary(t => t[..2], t => t[5..], StringComparer.Ordinal))];
        List<object?[]> nm = Run("tags.NM_uu");
        Assert.Equal(5, nm.Count);
        for (int row = 0; row < nm.Count; row++)
        {
            Assert.Equal(samtools[row].GetValueOrDefault("NM"), nm[row][0]?.ToString());
            Assert.Equal(samtools[row].GetValueOrDefault("nM"), nm[row][1]?.ToString());
        }

        Dictionary<string, string> metadata = Run("parquet_kv_metadata").ToDictionary(r => (string)r[0]!, r => (string)r[1]!, StringComparer.Ordinal);
        Assert.Equal([ParquetSink.TagNamesKey, ParquetSink.TagTypesKey], metadata.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("\"nM_lu\":\"nM\"", metadata[ParquetSink.TagNamesKey], StringComparison.Ordinal);
    }

    [CorpusFact]
    public void Convert_DiskFull_ExitsOneWithTheSystemsMessage()
    {
        var result = BamflowCli.Run("convert", SharedData.CorpusPath("hts-specs__level-9.bam"), "-o", "/dev/full", "--format", "parquet", "--quiet");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bamflow: error: No space left on device", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_Convert_DocumentsParquet()
    {
        var result = BamflowCli.Run("convert", "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (string text in (string[])["parquet", "--row-group-size", "snappy", ".parquet"])
        {
            Assert.Contains(text, result.StdoutText, StringComparison.Ordinal);
        }
    }
}
