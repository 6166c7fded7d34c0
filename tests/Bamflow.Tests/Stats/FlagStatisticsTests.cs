using System.Text;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Stats;

/// <summary>FlagStatistics against <c>samtools flagstat</c> (1.16), the oracle, byte for byte.</summary>
public sealed class FlagStatisticsTests
{
    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void ToText_File_EqualsSamtoolsFlagstat(string name)
    {
        string path = StatsFiles.PathOf(name);
        (FlagStatistics stats, _) = StatsFiles.Compute<FlagStatistics>(path);

        StatsFiles.AssertSameText(StatsFiles.Samtools(name, "flagstat", path), stats.ToText(), name);
    }

    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void ToJson_File_EqualsSamtoolsFlagstatJson(string name)
    {
        string path = StatsFiles.PathOf(name);
        (FlagStatistics stats, _) = StatsFiles.Compute<FlagStatistics>(path);

        StatsFiles.AssertSameText(StatsFiles.Samtools(name, "flagstat", "-O", "json", path), stats.ToJson(), name + " (json)");
    }

    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void ToTsv_File_EqualsSamtoolsFlagstatTsv(string name)
    {
        string path = StatsFiles.PathOf(name);
        (FlagStatistics stats, _) = StatsFiles.Compute<FlagStatistics>(path);

        StatsFiles.AssertSameText(StatsFiles.Samtools(name, "flagstat", "-O", "tsv", path), stats.ToTsv(), name + " (tsv)");
    }

    /// <summary>
    /// Every one of the 4,096 FLAG values, each with the mate on the same reference, on another, on none, and the
    /// record itself on none, with MAPQ 0, 4, 5 and 255 in turn: every branch of samtools' counting rules.
    /// </summary>
    [Fact]
    public void AllOutputs_EveryFlagValue_EqualSamtoolsFlagstat()
    {
        var sam = new StringBuilder("@SQ\tSN:chr1\tLN:1000\n@SQ\tSN:chr2\tLN:1000\n");
        int[] mapqs = [0, 4, 5, 255];
        string[] placements = ["chr1\t100\t=\t200", "chr1\t100\tchr2\t200", "chr1\t100\t*\t0", "*\t0\t*\t0"];
        int n = 0;
        for (int flag = 0; flag < 4096; flag++)
        {
            foreach (string placement in placements)
            {
                string[] p = placement.Split('\t');
                sam.Append($"r{n}\t{flag}\t{p[0]}\t{p[1]}\t{mapqs[n % 4]}\t4M\t{p[2]}\t{p[3]}\t0\tACGT\tIIII\n");
                n++;
            }
        }

        AssertAllOutputsMatch(Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString())), "every flag");
    }

    /// <summary>1 of 32 mapped is exactly 3.125%: glibc prints the tie rounded to even, "3.12%".</summary>
    [Fact]
    public void Percentages_ExactTie_RoundToEvenAsSamtools()
    {
        var sam = new StringBuilder("@SQ\tSN:chr1\tLN:1000\n");
        for (int i = 0; i < 40; i++)
        {
            // 32 QC-passed paired records, the first mapped in a proper pair (1/32 = 3.125%); 8 QC-failed, the first mapped (12.5%).
            int flag = (i is 0 or 32 ? 0x3 : 0x5) | (i >= 32 ? 0x200 : 0);
            sam.Append($"r{i}\t{flag}\tchr1\t100\t60\t1M\t=\t100\t0\tA\tI\n");
        }

        byte[] bam = Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString()));
        AssertAllOutputsMatch(bam, "ties");
        (FlagStatistics stats, _) = StatsFiles.Compute<FlagStatistics>(bam);
        Assert.Contains("1 + 1 mapped (3.12% : 12.50%)", stats.ToText(), StringComparison.Ordinal);
        Assert.Contains("\"properly paired %\": 3.12, ", stats.ToJson(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3.125, "3.12")]
    [InlineData(3.375, "3.38")]
    [InlineData(0.125, "0.12")]
    [InlineData(0.0, "0.00")]
    [InlineData(100.0, "100.00")]
    [InlineData(98.01999664306640625, "98.02")]
    [InlineData(0.004999999999999999, "0.00")]
    [InlineData(0.005000000000000001, "0.01")]
    public void FixedTwoDecimals_Value_RoundsLikeGlibcPrintf(double value, string expected)
    {
        Assert.Equal(expected, StatisticsFormat.FixedTwoDecimals(value));
    }

    [Fact]
    public void Percent_NoRecords_PrintsNotApplicableAndNull()
    {
        var stats = new FlagStatistics();

        Assert.Contains("0 + 0 mapped (N/A : N/A)", stats.ToText(), StringComparison.Ordinal);
        Assert.Contains("\"mapped %\": null, ", stats.ToJson(), StringComparison.Ordinal);
    }

    private static void AssertAllOutputsMatch(byte[] bam, string context)
    {
        string path = Path.Combine(Path.GetTempPath(), $"bamflow-flagstat-{Guid.NewGuid():N}.bam");
        File.WriteAllBytes(path, bam);
        try
        {
            (FlagStatistics stats, _) = StatsFiles.Compute<FlagStatistics>(bam);
            StatsFiles.AssertSameText(StatsFiles.Samtools(context, "flagstat", path), stats.ToText(), context);
            StatsFiles.AssertSameText(StatsFiles.Samtools(context, "flagstat", "-O", "json", path), stats.ToJson(), context + " (json)");
            StatsFiles.AssertSameText(StatsFiles.Samtools(context, "flagstat", "-O", "tsv", path), stats.ToTsv(), context + " (tsv)");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
