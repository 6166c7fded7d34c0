using System.Globalization;
using System.Text.Json;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>
/// <c>bamflow plan</c>, <c>convert --shard K/N</c> and <c>--plan PLAN --shard K</c>, and datasets (<c>-o DIR/</c>), run as
/// a user runs them; Parquet read back with DuckDB, counts checked against samtools.
/// </summary>
public sealed class ShardCliTests : IDisposable
{
    private readonly TempFolder _temp = new("bamflow-shard-cli-");

    public void Dispose() => _temp.Dispose();

    private string Dir => _temp.Path;

    private string Copy(string fixture, string? name = null)
    {
        string path = Path.Combine(Dir, name ?? fixture);
        File.Copy(Conversion.Fixture(fixture), path);
        return path;
    }

    [Fact]
    public void Plan_ToStdoutAndToAFile_TheSamePlan()
    {
        string input = Copy("sample.bam");
        string planPath = Path.Combine(Dir, "plan.json");

        var toStdout = BamflowCli.Run("plan", input, "-n", "4");
        var toFile = BamflowCli.Run("plan", input, "-n", "4", "-o", planPath, "--quiet");

        Assert.True(toStdout.ExitCode == 0, toStdout.Stderr);
        Assert.True(toFile.ExitCode == 0, toFile.Stderr);
        Assert.Contains("4 shards of", toStdout.Stderr, StringComparison.Ordinal);
        Assert.Equal("", toFile.Stderr);
        Assert.Empty(toFile.Stdout);
        ShardPlan fromStdout = ShardPlan.Parse(toStdout.StdoutText, "stdout");
        ShardPlan fromFile = ShardPlan.Load(planPath);
        Assert.Equal(4, fromFile.Count);
        Assert.Equal(fromStdout.Starts, fromFile.Starts);
        Assert.Equal(fromStdout.TagScan.Columns, fromFile.TagScan.Columns);
        Assert.Equal(new FileInfo(input).Length, fromFile.Bytes);
        fromFile.CheckInput(input);
        Assert.Null(fromFile.IndexPath); // no index beside the copy
        Assert.Equal(3, fromFile.FromSearch);
    }

    [Fact]
    public void Plan_WithTheIndexBesideIt_WithX_AndWithNoIndex()
    {
        string input = Copy("sample.bam");
        string other = Path.Combine(Dir, "elsewhere.bai");
        Assert.Equal(0, Samtools.Run(null, "index", input).ExitCode);
        Assert.Equal(0, Samtools.Run(null, "index", input, other).ExitCode);

        JsonElement beside = PlanJson("plan", input, "-n", "8", "--quiet");
        JsonElement withX = PlanJson("plan", input, "-n", "8", "-X", other, "--quiet");
        JsonElement without = PlanJson("plan", input, "-n", "8", "--no-index", "--quiet");

        Assert.Equal(input + ".bai", beside.GetProperty("planning").GetProperty("index").GetString());
        Assert.Equal(other, withX.GetProperty("planning").GetProperty("index").GetString());
        Assert.Equal(JsonValueKind.Null, without.GetProperty("planning").GetProperty("index").ValueKind);
        Assert.Equal(0, without.GetProperty("planning").GetProperty("boundaries_from_index").GetInt32());
        Assert.Equal(7, without.GetProperty("planning").GetProperty("boundaries_from_search").GetInt32());
        Assert.Equal(8, without.GetProperty("shards").GetArrayLength());
    }

    [Theory]
    [InlineData(2, "-n", "0")]
    [InlineData(2, "-n", "-3")]
    [InlineData(2, "-n", "abc")]
    [InlineData(2, "-n", "2", "--no-index", "-X", "x.bai")]
    [InlineData(2)]
    [InlineData(2, "-n", "2", "STDIN")]
    [InlineData(1, "-n", "2", "MISSING")]
    [InlineData(1, "-n", "2", "SAM")]
    public void Plan_BadUsageExits2_BadInputExits1(int exitCode, params string[] arguments)
    {
        string input = arguments.Contains("STDIN") ? "-" : arguments.Contains("MISSING") ? Path.Combine(Dir, "missing.bam")
            : arguments.Contains("SAM") ? Copy("sample.sam") : Conversion.Fixture("sample.bam");
        var result = BamflowCli.Run(["plan", input, .. arguments.Where(a => a is not ("STDIN" or "MISSING" or "SAM"))]);
        Assert.True(exitCode == result.ExitCode, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Empty(result.Stdout);
        Assert.StartsWith("bamflow", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertShard_BothForms_ParquetShardsReadByDuckDbAreTheWholeRun()
    {
        string input = Copy("sample.bam");
        string planPath = Path.Combine(Dir, "plan.json");
        string whole = Path.Combine(Dir, "whole.parquet");
        Assert.Equal(0, Run("convert", input, "-o", whole, "--quiet"));
        Assert.Equal(0, Run("plan", input, "-n", "3", "-o", planPath, "--quiet"));
        List<ArrowSam.Line> wholeRows = ParquetSam.Lines(whole);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(input), wholeRows, "whole.parquet vs samtools");
        List<string> columns = ParquetSam.Columns(whole);
        Dictionary<string, string> metadata = ParquetSam.KeyValueMetadata(whole);

        foreach (string form in new[] { "K/N", "plan" })
        {
            var rows = new List<List<ArrowSam.Line>>();
            for (int k = 1; k <= 3; k++)
            {
                string part = Path.Combine(Dir, $"{(form == "plan" ? "p" : "s")}{k}.parquet");
                string[] shard = form == "plan" ? ["--plan", planPath, "--shard", $"{k}"] : ["--shard", $"{k}/3"];
                Assert.Equal(0, Run(["convert", input, .. shard, "-o", part, "--quiet", "-@", "2"]));
                rows.Add(ParquetSam.Lines(part));
                Assert.Equal(columns, ParquetSam.Columns(part));
                Dictionary<string, string> partMetadata = ParquetSam.KeyValueMetadata(part);
                Assert.Equal(metadata["sam.tag_types"], partMetadata["sam.tag_types"]);
                Assert.Equal(metadata["ARROW:schema"], partMetadata["ARROW:schema"]);
            }

            Assert.All(rows, r => Assert.NotEmpty(r));
            Bamflow.Tests.Shards.ShardRuns.AssertConcatenation(wholeRows, rows, $"convert --shard ({form})");
        }

        // The default output of a shard: IN.part-KKKKK.arrow.
        Assert.Equal(0, Run("convert", input, "--shard", "2/3", "--quiet"));
        Assert.True(File.Exists(Path.Combine(Dir, "sample.part-00002.arrow")));
    }

    [Fact]
    public void StatsShard_CountsEachShard_AndTheyAddUpToFlagstat()
    {
        string input = Copy("sample.bam");
        long total = 0;
        for (int k = 1; k <= 2; k++)
        {
            var result = BamflowCli.Run("stats", input, "--shard", $"{k}/2", "--json");
            Assert.True(result.ExitCode == 0, result.Stderr);
            using var json = JsonDocument.Parse(result.Stdout);
            long records = json.RootElement.GetProperty("QC-passed reads").GetProperty("total").GetInt64();
            Assert.True(records > 0);
            total += records;
        }

        Assert.Equal(SamtoolsCount(input), total);
    }

    public static TheoryData<string> ShardUsageErrors => [
        "--shard 0/3", "--shard 4/3", "--shard abc", "--shard 1/0", "--shard 1/2/3", "--shard -1/3",
        "--plan PLAN", "--shard 2", "--shard 1/2 chrA", "--shard 1/2 STDIN",
        "--plan PLAN --shard 2/5", "--plan PLAN --shard 4", "--shard 1/2 -o DIR/ --format arrow-stream",
    ];

    [Theory]
    [MemberData(nameof(ShardUsageErrors))]
    public void ConvertShard_UsageErrors_Exit2WritingNothing(string usage)
    {
        string[] options = usage.Split(' ');
        string input = Copy("sample.bam");
        Assert.Equal(0, Samtools.Run(null, "index", input).ExitCode);
        string planPath = Path.Combine(Dir, "plan.json");
        Assert.Equal(0, Run("plan", input, "-n", "3", "-o", planPath, "--quiet"));
        string output = Path.Combine(Dir, "out.parquet");
        string[] arguments = ["convert", options.Contains("STDIN") ? "-" : input,
            .. options.Where(o => o != "STDIN").Select(o => o == "PLAN" ? planPath : o == "DIR/" ? Path.Combine(Dir, "ds") + "/" : o)];
        if (!arguments.Contains("-o"))
        {
            arguments = [.. arguments, "-o", output];
        }

        var result = options.Contains("STDIN") ? BamflowCli.Run(File.ReadAllBytes(input), arguments) : BamflowCli.Run(arguments);
        Assert.True(result.ExitCode == 2, $"{string.Join(' ', options)}: exit {result.ExitCode}: {result.Stderr}");
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(Dir, "*.bamflow-tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void ConvertWithAPlanOfAnotherFile_Exits1NamingTheFile()
    {
        string a = Copy("sample.bam", "a.bam");
        string b = Copy("sample.bam", "b.bam");
        File.SetLastWriteTimeUtc(b, File.GetLastWriteTimeUtc(a).AddMinutes(1));
        string planPath = Path.Combine(Dir, "plan.json");
        Assert.Equal(0, Run("plan", a, "-n", "2", "-o", planPath, "--quiet"));
        // A copy with a new modification time is the same file (a plan identifies it by size and content) …
        var copied = BamflowCli.Run("convert", b, "--plan", planPath, "--shard", "1", "-o", Path.Combine(Dir, "copy.parquet"), "--quiet");
        Assert.True(copied.ExitCode == 0, copied.Stderr);

        // … another version of it (the same size, a byte of its last block changed) is not.
        byte[] bytes = File.ReadAllBytes(a);
        bytes[^40] ^= 0x5a;
        File.WriteAllBytes(b, bytes);
        var result = BamflowCli.Run("convert", b, "--plan", planPath, "--shard", "1", "-o", Path.Combine(Dir, "x.parquet"));
        Assert.True(result.ExitCode == 1, result.Stderr);
        Assert.Contains(b, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("bamflow plan", result.Stderr, StringComparison.Ordinal);

        File.WriteAllText(planPath, File.ReadAllText(planPath).Replace("\"bamflow_shard_plan\": 1", "\"bamflow_shard_plan\": 9", StringComparison.Ordinal));
        result = BamflowCli.Run("convert", a, "--plan", planPath, "--shard", "1", "-o", Path.Combine(Dir, "x.parquet"));
        Assert.True(result.ExitCode == 1, result.Stderr);
        Assert.Contains(planPath, result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Dir, "x.parquet")));
    }

    [Fact]
    public void Dataset_OfTwoFixtures_HivePartitionsReadByDuckDb_AndShardsOfOne()
    {
        string a = Copy("sample.bam");
        string b = Copy("edge-cases.bam");
        string dataset = Path.Combine(Dir, "ds");
        Assert.Equal(0, Run("convert", a, b, "-o", dataset + "/", "--quiet"));
        Assert.True(File.Exists(Path.Combine(dataset, "sample=sample", "part-00001.parquet")));
        Assert.True(File.Exists(Path.Combine(dataset, "sample=edge-cases", "part-00001.parquet")));
        Assert.Equal(new Dictionary<string, long> { ["sample"] = SamtoolsCount(a), ["edge-cases"] = SamtoolsCount(b) }, Counts(dataset));

        // Shards of one file into a dataset of its own (the directory exists now, no slash needed); the parts add up.
        string sharded = Path.Combine(Dir, "sharded");
        Directory.CreateDirectory(sharded);
        for (int k = 1; k <= 3; k++)
        {
            Assert.Equal(0, Run("convert", a, "--shard", $"{k}/3", "-o", sharded, "--quiet"));
        }

        Assert.Equal(3, Directory.GetFiles(Path.Combine(sharded, "sample=sample"), "part-*.parquet").Length);
        Assert.Equal(new Dictionary<string, long> { ["sample"] = SamtoolsCount(a) }, Counts(sharded));

        // A whole run now would sit beside parts 2 and 3 of the sharded run: refused. So are Arrow parts beside Parquet ones.
        var stale = BamflowCli.Run("convert", a, "-o", sharded + "/");
        Assert.True(stale.ExitCode == 2, stale.Stderr);
        Assert.Contains("part-00002.parquet", stale.Stderr, StringComparison.Ordinal);
        var otherFormat = BamflowCli.Run("convert", a, "--shard", "1/3", "-o", sharded + "/", "--format", "arrow");
        Assert.True(otherFormat.ExitCode == 2, otherFormat.Stderr);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(sharded, "sample=sample")).Length);
        Assert.Equal(new Dictionary<string, long> { ["sample"] = SamtoolsCount(a) }, Counts(sharded));

        // --sample names the partition.
        Assert.Equal(0, Run("convert", b, "-o", dataset + "/", "--sample", "S-2.b_c", "--quiet"));
        Assert.True(File.Exists(Path.Combine(dataset, "sample=S-2.b_c", "part-00001.parquet")));
    }

    [Theory]
    [InlineData("--sample", "../x")]
    [InlineData("--sample", ".hidden")]
    [InlineData("--sample", "a b")]
    [InlineData("--sample", "x=y")]
    [InlineData("--sample", "")]
    [InlineData("NOT-A-DIRECTORY", "--sample", "s")]
    [InlineData("TWO-INPUTS", "--sample", "s")]
    [InlineData("SAME-NAME")]
    public void Dataset_BadSampleNames_Exit2(params string[] options)
    {
        string a = Copy("sample.bam");
        string sub = Directory.CreateDirectory(Path.Combine(Dir, "sub")).FullName;
        string sameName = Path.Combine(sub, "sample.bam");
        File.Copy(a, sameName);
        string dataset = Path.Combine(Dir, "ds") + "/";
        string[] inputs = options.Contains("TWO-INPUTS") ? [a, Copy("edge-cases.bam")] : options.Contains("SAME-NAME") ? [a, sameName] : [a];
        string output = options.Contains("NOT-A-DIRECTORY") ? Path.Combine(Dir, "x.parquet") : dataset;
        var result = BamflowCli.Run(["convert", .. inputs, "-o", output, .. options.Where(o => o is not ("NOT-A-DIRECTORY" or "TWO-INPUTS" or "SAME-NAME"))]);
        Assert.True(result.ExitCode == 2, $"{string.Join(' ', options)}: exit {result.ExitCode}: {result.Stderr}");
        Assert.False(Directory.Exists(dataset) && Directory.EnumerateFiles(dataset, "*.parquet", SearchOption.AllDirectories).Any(), "a part was written");
    }

    [CorpusFact]
    public void Dataset_OfTwoCorpusFiles_PerSampleCountsAreSamtools()
    {
        string a = SharedData.CorpusPath("htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam");
        string b = SharedData.CorpusPath("pbbam__long_reads.bam");
        string dataset = Path.Combine(Dir, "corpus");
        Assert.Equal(0, Run("convert", a, b, "-o", dataset + "/", "--quiet"));
        for (int k = 1; k <= 4; k++)
        {
            Assert.Equal(0, Run("convert", a, "--shard", $"{k}/4", "-o", dataset + "/", "--sample", "ceu-sharded", "--quiet"));
        }

        Assert.Equal(new Dictionary<string, long>
        {
            ["htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000"] = SamtoolsCount(a),
            ["pbbam__long_reads"] = SamtoolsCount(b),
            ["ceu-sharded"] = SamtoolsCount(a),
        }, Counts(dataset));
    }

    private static Dictionary<string, long> Counts(string dataset)
    {
        using var connection = ParquetSam.Open();
        return ParquetSam.Query(connection, $"SELECT sample, count(*) FROM read_parquet({ParquetSam.Quote(Path.Combine(dataset, "**", "*.parquet"))}, hive_partitioning = true, union_by_name = true) GROUP BY sample")
            .ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture));
    }

    private static long SamtoolsCount(string path)
    {
        (int code, byte[] stdout, string stderr) = Samtools.Run(null, "view", "-c", path);
        Assert.True(code == 0, stderr);
        return long.Parse(System.Text.Encoding.ASCII.GetString(stdout).Trim(), CultureInfo.InvariantCulture);
    }

    private static int Run(params string[] arguments)
    {
        var result = BamflowCli.Run(arguments);
        Assert.True(result.ExitCode == 0, $"bamflow {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.Stderr}");
        return result.ExitCode;
    }

    private static JsonElement PlanJson(params string[] arguments)
    {
        var result = BamflowCli.Run(arguments);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }
}
