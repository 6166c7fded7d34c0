using System.Text;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Stats;

/// <summary>
/// <c>bamflow stats --merge</c>, run as a user runs it: every file is cut into parts by record count with samtools
/// (<c>samtools view -h</c>, the records split, <c>samtools view -b</c> for each part), <c>bamflow stats --json</c>
/// runs on each part, and the merge must print what <c>samtools flagstat</c> prints for the whole file, byte for byte.
/// </summary>
public sealed class StatsMergeCommandTests : IDisposable
{
    /// <summary>Files with at most this many records are also cut into more parts than records (some empty).</summary>
    private const int SmallFile = 12;

    private readonly TempFolder _temp = new("bamflow-merge-");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void Merge_PartsOfFile_PrintsWhatSamtoolsFlagstatPrintsForTheWholeFile(string name)
    {
        string path = StatsFiles.PathOf(name);
        string expectedText = StatsFiles.Samtools(name, "flagstat", path);
        string expectedJson = StatsFiles.Samtools(name, "flagstat", "-O", "json", path);
        (byte[] header, List<byte[]> records) = ReadSam(path, name);

        // (One part, and the shards of bamflow's own plans for N = 1 … 64, are Shards/ShardStatisticsTests': in process.)
        List<int> splits = [3];
        if (records.Count <= SmallFile)
        {
            splits.Add(records.Count + 2);
        }

        foreach (int parts in splits)
        {
            string context = $"{name} @ parts={parts}";
            string[] documents = StatsOfParts(header, records, parts, context, "--json");

            AssertPrints(expectedText, context, ["stats", "--merge", .. documents]);
            AssertPrints(expectedJson, context + " --json", ["stats", "--merge", .. documents, "--json"]);
        }
    }

    /// <summary>A few varied files (every case runs eight processes): fixtures, several references, unplaced reads, long reads.</summary>
    public static TheoryData<string> ExtendedCases => [.. StatsFiles.All.Select(row => (string)row.Data).Where(name =>
        !name.Contains("__", StringComparison.Ordinal) || name is "samtools__mpileup.1.bam" or "picard__test.bam" or "pbbam__long_reads.bam"
            or "htsjdk__NA12878.m64020_190210_035026.chr21.5011316.5411316.unmapped.bam" or "modkit__supplementary_and_secondary_read.bam")];

    [Theory]
    [MemberData(nameof(ExtendedCases))]
    public void MergeExtended_PartsOfFile_EqualStatsExtendedOfTheWholeFile(string name)
    {
        string path = StatsFiles.PathOf(name);
        (byte[] header, List<byte[]> records) = ReadSam(path, name);
        string context = $"{name} @ parts=3, extended";
        string[] documents = StatsOfParts(header, records, 3, context, "--json", "--extended");

        string expectedText = Run(context + " whole", "stats", "--extended", path);
        string expectedJson = Run(context + " whole", "stats", "--extended", "--json", path);
        string merged = AssertPrints(expectedText, context, ["stats", "--merge", .. documents, "--extended"]);
        AssertPrints(expectedJson, context + " --json", ["stats", "--merge", .. documents, "--extended", "--json"]);

        // Extended parts merged without --extended: flagstat's document alone.
        AssertPrints(StatsFiles.Samtools(name, "flagstat", "-O", "json", path), context + " not extended --json", ["stats", "--merge", .. documents, "--json"]);

        // The references, after "REF\t", are what samtools idxstats prints (where it can read the file).
        (int code, byte[] idxstats, _) = Samtools.Run(null, "idxstats", path);
        if (code == 0)
        {
            string references = string.Concat(merged.Split('\n').Where(l => l.StartsWith("REF\t", StringComparison.Ordinal)).Select(l => l["REF\t".Length..] + "\n"));
            StatsFiles.AssertSameText(Encoding.UTF8.GetString(idxstats), references, context + " idxstats");
        }
    }

    [Fact]
    public void Merge_WholeFilesWithoutOrigin_AddUpAsTheFilesTogether()
    {
        string sample = Conversion.Fixture("sample.bam"), edge = Conversion.Fixture("edge-cases.bam");
        string a = Document("sample.json", Run("sample", "stats", "--json", sample));
        string b = Document("edge.json", Run("edge", "stats", "--json", edge));

        // The oracle: samtools flagstat of one file holding both files' records (samtools merge joins their headers).
        string both = Path.Combine(_temp.Path, "both.bam");
        (int code, _, string error) = Samtools.Run(null, "merge", "-f", "-o", both, sample, edge);
        Assert.True(code == 0, error);

        AssertPrints(StatsFiles.Samtools("both", "flagstat", both), "two files", ["stats", "--merge", a, b]);
    }

    [Fact]
    public void Merge_ShardsWithOrigins_CheckedAndAddedUp()
    {
        string path = Conversion.Fixture("sample.bam");
        (byte[] header, List<byte[]> records) = ReadSam(path, "sample");
        string[] plain = StatsOfParts(header, records, 3, "sample shards", "--json");
        string[] shards = [.. plain.Select((part, i) => Document($"shard{i + 1}.json", WithOrigin(File.ReadAllText(part), "data/x.bam", 5000, i + 1, 3)))];

        AssertPrints(StatsFiles.Samtools("sample", "flagstat", path), "shards", ["stats", "--merge", shards[2], shards[0], shards[1]]);

        AssertFails(1, "shard 2 of 3 is missing", ["stats", "--merge", shards[0], shards[2]]);
        AssertFails(1, $"shard 2 of 3 is given twice: {shards[1]}, {shards[1]}", ["stats", "--merge", shards[0], shards[1], shards[1], shards[2]]);
        string other = Document("other.json", WithOrigin(File.ReadAllText(plain[1]), "elsewhere/x.bam", 4999, 2, 3));
        AssertFails(1, $"parts of different files: {shards[0]} is shard 1 of 3 of data/x.bam (5,000 bytes) but {other} is shard 2 of 3 of elsewhere/x.bam (4,999 bytes)",
            ["stats", "--merge", shards[0], other, shards[2]]);
        string fourths = Document("fourths.json", WithOrigin(File.ReadAllText(plain[1]), "x.bam", 5000, 2, 4));
        AssertFails(1, $"{shards[0]} is shard 1 of 3 but {fourths} is shard 2 of 4", ["stats", "--merge", shards[0], fourths, shards[2]]);
        AssertFails(1, $"{shards[0]}, {shards[2]} are shards (bamflow stats --shard) but {plain[1]} is not", ["stats", "--merge", shards[0], plain[1], shards[2]]);

        // The same input named from another folder is the same file (the name and the size are compared).
        string moved = Document("moved.json", WithOrigin(File.ReadAllText(plain[1]), "/elsewhere/x.bam", 5000, 2, 3));
        AssertPrints(StatsFiles.Samtools("sample", "flagstat", path), "moved", ["stats", "--merge", shards[0], moved, shards[2]]);
    }

    [Fact]
    public void Merge_BadParts_ExitOneNamingTheFileAndTheKey()
    {
        string good = Run("sample", "stats", "--json", Conversion.Fixture("sample.bam"));
        string valid = Document("good.json", good);

        AssertFails(1, "notjson.json: not a statistics document: invalid JSON", ["stats", "--merge", valid, Document("notjson.json", good[..^10])]);
        AssertFails(1, "missing.json: key \"QC-failed reads/read2\" is missing",
            ["stats", "--merge", valid, Document("missing.json", good.Replace("  \"read2\": 0, \n", "", StringComparison.Ordinal))]);
        AssertFails(1, "negative.json: \"QC-passed reads/read1\" is -1000: a count, a whole number 0 or more, is expected",
            ["stats", "--merge", Document("negative.json", good.Replace("\"read1\": 1000", "\"read1\": -1000", StringComparison.Ordinal))]);
        AssertFails(1, "fraction.json: \"QC-passed reads/total\" is 2023.5",
            ["stats", "--merge", Document("fraction.json", good.Replace("\"total\": 2023", "\"total\": 2023.5", StringComparison.Ordinal))]);
        AssertFails(1, "text.json: \"QC-passed reads/total\" is \"2023\"",
            ["stats", "--merge", Document("text.json", good.Replace("\"total\": 2023", "\"total\": \"2023\"", StringComparison.Ordinal))]);
        AssertFails(1, "good.json: has no extended statistics", ["stats", "--merge", valid, "--extended"]);
        AssertFails(1, "absent.json", ["stats", "--merge", valid, Path.Combine(_temp.Path, "absent.json")]);
        AssertFails(1, "sample.bam: not a statistics document: it is gzip-compressed (a BAM file?)", ["stats", "--merge", valid, Conversion.Fixture("sample.bam")]);
    }

    [Theory]
    [InlineData("SAMPLE", "--merge", "PART")]
    [InlineData("--merge", "PART", "-L", "x.bed")]
    [InlineData("--merge", "PART", "-@", "2")]
    [InlineData("--merge")]
    public void Merge_BadUsage_ExitsTwo(params string[] arguments)
    {
        string part = Document("part.json", Run("sample", "stats", "--json", Conversion.Fixture("sample.bam")));

        var result = BamflowCli.Run(["stats", .. arguments.Select(a => a switch { "PART" => part, "SAMPLE" => Conversion.Fixture("sample.bam"), _ => a })]);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Empty(result.Stdout);
        Assert.Contains("Try 'bamflow --help'", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The SAM text of a file: its header (NUL padding removed: samtools prints it, and cannot read it back) and its record lines.</summary>
    private static (byte[] Header, List<byte[]> Records) ReadSam(string path, string context)
    {
        (int code, byte[] sam, string error) = Samtools.Run(null, "view", "-h", "--no-PG", path);
        Assert.True(code == 0, $"{context}: samtools view -h failed: {error}");
        var header = new List<byte>();
        var records = new List<byte[]>();
        int start = 0;
        while (start < sam.Length)
        {
            int end = Array.IndexOf(sam, (byte)'\n', start);
            end = end < 0 ? sam.Length : end + 1;
            byte[] line = [.. sam[start..end].Where(b => b != 0)];
            if (records.Count == 0 && line.Length > 0 && line[0] == '@')
            {
                header.AddRange(line);
            }
            else
            {
                records.Add(line);
            }

            start = end;
        }

        return ([.. header], records);
    }

    /// <summary>Cuts the records into <paramref name="parts"/> runs (by count, in order), makes a BAM of each with samtools, and runs bamflow stats on each.</summary>
    private string[] StatsOfParts(byte[] header, List<byte[]> records, int parts, string context, params string[] options)
    {
        string folder = Directory.CreateDirectory(Path.Combine(_temp.Path, "parts-" + Guid.NewGuid().ToString("N"))).FullName;
        var documents = new string[parts];
        for (int i = 0; i < parts; i++)
        {
            int from = (int)((long)records.Count * i / parts), to = (int)((long)records.Count * (i + 1) / parts);
            byte[] sam = [.. header, .. records[from..to].SelectMany(r => r)];
            string bam = Path.Combine(folder, $"part{i + 1}.bam");
            (int code, _, string error) = Samtools.Run(sam, "view", "-b", "--no-PG", "-o", bam, "-");
            Assert.True(code == 0, $"{context}: samtools view -b of part {i + 1} failed: {error}");
            documents[i] = Path.Combine(folder, $"part{i + 1}.json");
            File.WriteAllText(documents[i], Run($"{context} part {i + 1}", ["stats", .. options, bam]));
        }

        return documents;
    }

    private string Document(string name, string text)
    {
        string path = Path.Combine(_temp.Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A document of bamflow stats --json with the shard origin added as bamflow stats --shard writes it (as the last key).</summary>
    private static string WithOrigin(string json, string input, long bytes, int shard, int shards)
    {
        Assert.EndsWith(" }\n}\n", json, StringComparison.Ordinal);
        return json[..^"\n}\n".Length] + $",\n \"bamflow shard\": {{\"input\": \"{input}\", \"bytes\": {bytes}, \"shard\": {shard}, \"shards\": {shards}}}\n}}\n";
    }

    private static string Run(string context, params string[] arguments)
    {
        var result = BamflowCli.Run(arguments);
        Assert.True(result.ExitCode == 0, $"{context}: bamflow {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.Stderr}");
        return result.StdoutText;
    }

    private static string AssertPrints(string expected, string context, string[] arguments)
    {
        var result = BamflowCli.Run(arguments);
        Assert.True(result.ExitCode == 0, $"{context}: exit {result.ExitCode}: {result.Stderr}");
        Assert.True(result.Stderr.Length == 0, $"{context}: unexpected stderr: {result.Stderr}");
        StatsFiles.AssertSameText(expected, result.StdoutText, context);
        return result.StdoutText;
    }

    private static void AssertFails(int exitCode, string message, string[] arguments)
    {
        var result = BamflowCli.Run(arguments);
        Assert.True(result.ExitCode == exitCode, $"bamflow {string.Join(' ', arguments)}: exit {result.ExitCode}, not {exitCode}: {result.Stderr}");
        Assert.Empty(result.Stdout);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("bamflow: ", result.Stderr, StringComparison.Ordinal);
    }
}
