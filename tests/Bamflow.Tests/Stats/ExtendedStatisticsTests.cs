using System.Text;
using System.Text.Json;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Stats;

/// <summary>
/// MAPQ histogram, read lengths and records per reference against independent counts from <c>samtools view</c>'s
/// text (FLAG, RNAME, MAPQ and SEQ columns), and the per-reference lines against <c>samtools idxstats</c> where it
/// can read the file (it needs an index or a coordinate-sorted file).
/// </summary>
public sealed class ExtendedStatisticsTests
{
    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void Sections_File_EqualCountsFromSamtoolsView(string name)
    {
        string path = StatsFiles.PathOf(name);
        (BamStatistics stats, BamHeader header) = StatsFiles.Compute<BamStatistics>(path);
        Oracle oracle = Oracle.FromSamtoolsView(path, header, name);

        StatsFiles.AssertSameText(oracle.MapqText(), stats.MappingQualities.ToText(), name + " MAPQ");
        StatsFiles.AssertSameText(oracle.LengthText(), stats.ReadLengths.ToText(), name + " RL");
        StatsFiles.AssertSameText(oracle.ReferenceText(header), stats.References.ToText(header.References), name + " REF");
        Assert.Equal(oracle.Records, stats.MappingQualities.Total);
    }

    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void References_FileSamtoolsIdxstatsCanRead_EqualIdxstats(string name)
    {
        string path = StatsFiles.PathOf(name);
        (int code, byte[] stdout, string stderr) = Samtools.Run(null, "idxstats", path);
        if (code != 0)
        {
            // Neither indexed nor coordinate-sorted: samtools idxstats refuses; the samtools view counts above still apply.
            Assert.Contains("index", stderr, StringComparison.OrdinalIgnoreCase);
            return;
        }

        (ReferenceCounts counts, BamHeader header) = StatsFiles.Compute<ReferenceCounts>(path);
        string ours = string.Concat(counts.ToText(header.References).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l["REF\t".Length..] + "\n"));

        StatsFiles.AssertSameText(Encoding.UTF8.GetString(stdout), ours, name + " idxstats");
    }

    [Fact]
    public void ExtendedJson_Sample_IsFlagstatJsonPlusThreeKeys()
    {
        string path = Conversion.Fixture("sample.bam");
        (BamStatistics stats, BamHeader header) = StatsFiles.Compute<BamStatistics>(path);

        using JsonDocument extended = JsonDocument.Parse(stats.ToExtendedJson(header.References));
        using JsonDocument flagstat = JsonDocument.Parse(StatsFiles.Samtools("sample", "flagstat", "-O", "json", path));

        string[] keys = [.. extended.RootElement.EnumerateObject().Select(p => p.Name)];
        Assert.Equal(["QC-passed reads", "QC-failed reads", "MAPQ", "read length", "references"], keys);
        Assert.Equal(flagstat.RootElement.GetProperty("QC-passed reads").GetRawText(), extended.RootElement.GetProperty("QC-passed reads").GetRawText());
        Assert.Equal(flagstat.RootElement.GetProperty("QC-failed reads").GetRawText(), extended.RootElement.GetProperty("QC-failed reads").GetRawText());
        Assert.Equal(stats.MappingQualities[60], extended.RootElement.GetProperty("MAPQ").GetProperty("60").GetInt64());
        JsonElement[] references = [.. extended.RootElement.GetProperty("references").EnumerateArray()];
        Assert.Equal(header.References.Count + 1, references.Length);
        Assert.Equal("*", references[^1].GetProperty("name").GetString());
        Assert.Equal(stats.MappingQualities.Total, references.Sum(r => r.GetProperty("mapped").GetInt64() + r.GetProperty("unmapped").GetInt64()));
    }

    [Fact]
    public void ReadLengths_LongAndShort_CountedInOrder()
    {
        var sam = new StringBuilder("@SQ\tSN:chr1\tLN:1000000\n");
        foreach (int length in (int[])[0, 70_000, 3, 70_000, 100_000, 600, 3])
        {
            string seq = length == 0 ? "*" : new string('A', length);
            string qual = length == 0 ? "*" : new string('I', length);
            sam.Append($"r\t4\t*\t0\t0\t*\t*\t0\t0\t{seq}\t{qual}\n");
        }

        (ReadLengthDistribution lengths, _) = StatsFiles.Compute<ReadLengthDistribution>(Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString())));

        Assert.Equal("RL\t0\t1\nRL\t3\t2\nRL\t600\t1\nRL\t70000\t2\nRL\t100000\t1\n", lengths.ToText());
        Assert.Equal(2, lengths[70_000]);
        Assert.Equal(0, lengths[5]);
    }

    [Fact]
    public void ReferenceNames_InJson_AreEscaped()
    {
        var json = new StringBuilder();
        StatisticsFormat.AppendJsonString(json, "a\"b\\c\u0001d");

        Assert.Equal("\"a\\\"b\\\\c\\u0001d\"", json.ToString());
        Assert.Equal("a\"b\\c\u0001d", JsonDocument.Parse(json.ToString()).RootElement.GetString());
    }

    /// <summary>Counts made from samtools view's text alone.</summary>
    private sealed class Oracle
    {
        private readonly SortedDictionary<int, long> _mapq = [];
        private readonly SortedDictionary<int, long> _lengths = [];
        private readonly Dictionary<string, (long Mapped, long Unmapped)> _references = new(StringComparer.Ordinal);

        public long Records { get; private set; }

        public static Oracle FromSamtoolsView(string path, BamHeader header, string context)
        {
            var oracle = new Oracle();
            using var samtools = Samtools.Start("view", "--no-PG", path);
            samtools.StandardInput.Close();
            Task<string> stderr = samtools.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            while (samtools.StandardOutput.ReadLine() is { } line)
            {
                // QNAME FLAG RNAME POS MAPQ CIGAR RNEXT PNEXT TLEN SEQ …
                string[] f = line.Split('\t', 11);
                int flag = int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture);
                int mapq = int.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture);
                int length = f[9] == "*" ? 0 : f[9].Length;
                oracle._mapq[mapq] = oracle._mapq.GetValueOrDefault(mapq) + 1;
                oracle._lengths[length] = oracle._lengths.GetValueOrDefault(length) + 1;
                (long m, long u) = oracle._references.GetValueOrDefault(f[2]);
                oracle._references[f[2]] = (flag & 4) == 0 ? (m + 1, u) : (m, u + 1);
                oracle.Records++;
            }

            samtools.WaitForExit();
            Assert.True(samtools.ExitCode == 0, $"{context}: samtools view failed: {stderr.Result}");
            Assert.True(oracle._references.Keys.All(k => k == "*" || header.References.Any(r => r.Name == k)), $"{context}: a name samtools printed is not in the header");
            return oracle;
        }

        public string MapqText() => string.Concat(_mapq.Select(p => $"MAPQ\t{p.Key}\t{p.Value}\n"));

        public string LengthText() => string.Concat(_lengths.Select(p => $"RL\t{p.Key}\t{p.Value}\n"));

        public string ReferenceText(BamHeader header)
        {
            var text = new StringBuilder();
            foreach (BamReference reference in header.References)
            {
                (long m, long u) = _references.GetValueOrDefault(reference.Name);
                text.Append($"REF\t{reference.Name}\t{reference.Length}\t{m}\t{u}\n");
            }

            (long um, long uu) = _references.GetValueOrDefault("*");
            return text.Append($"REF\t*\t0\t{um}\t{uu}\n").ToString();
        }
    }
}
