using System.Globalization;
using System.Text;
using Bamflow.Bam.Index;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bam.Index;

/// <summary>
/// <see cref="BamIndex.Counts"/> and <see cref="BamIndex.UnplacedCount"/> equal <c>samtools idxstats</c> 1.16 (which prints
/// the same metadata pseudo-bin counts) for every index in the corpus and for BAI, CSI and CSI -m 10 indexes made by
/// <c>samtools index</c> of every corpus BAM it accepts.
/// </summary>
public sealed class BamIndexCountsTests
{
    public static IEnumerable<TheoryDataRow<string>> CorpusIndexes() =>
        SharedData.SkipsCorpusTests || SharedData.Root is null
            ? [new("(shared data absent)")]
            : Directory.GetFiles(SharedData.BamFolder).Where(f => f.EndsWith(".bai", StringComparison.Ordinal) || f.EndsWith(".csi", StringComparison.Ordinal)).Select(f => new TheoryDataRow<string>(Path.GetFileName(f))).ToList();

    public static IEnumerable<TheoryDataRow<string>> CorpusBams() => SharedData.CorpusFiles(bad: false).Select(f => new TheoryDataRow<string>(f));

    [CorpusTheory]
    [MemberData(nameof(CorpusIndexes))]
    public void Counts_CorpusIndex_EqualSamtoolsIdxstats(string indexName)
    {
        string indexPath = SharedData.CorpusPath(indexName);
        string bam = indexPath[..^4];
        Assert.Equal(indexPath, BamIndex.Locate(bam)); // so idxstats reads this very index
        AssertIdxstats(bam, BamIndex.Read(indexPath), indexName);
    }

    [CorpusTheory]
    [MemberData(nameof(CorpusBams))]
    public void Counts_SamtoolsMadeIndexes_EqualSamtoolsIdxstats(string name)
    {
        using var temp = new TempFolder("bamflow-idxstats-");
        string bam = Path.Combine(temp.Path, Path.GetFileName(name));
        File.Copy(SharedData.CorpusPath(name), bam);
        int made = 0;
        foreach (string[] options in new[] { Array.Empty<string>(), ["-c"], ["-c", "-m", "10"] })
        {
            string suffix = options.Length == 0 ? ".bai" : ".csi";
            (int code, _, string error) = Samtools.Run(null, ["index", .. options, bam]);
            if (code != 0)
            {
                // Not coordinate-sorted (or unmapped reads in the middle): samtools refuses, and there is nothing to compare.
                // Positions beyond 2^29 - 1 (htsjdk__inttest_large_coordinates): samtools refuses the BAI only.
                Assert.Contains("failed to create index", error, StringComparison.Ordinal);
                continue;
            }

            made++;
            foreach (string stale in Directory.GetFiles(temp.Path).Where(f => f != bam && !f.EndsWith(suffix, StringComparison.Ordinal)))
            {
                File.Delete(stale); // idxstats must read the index just made
            }

            BamIndex index = BamIndex.Read(bam + suffix);
            Assert.Equal(suffix == ".csi", index.IsCsi);
            Assert.Equal(options.Length == 3 ? 10 : 14, index.Scheme.MinShift);
            AssertIdxstats(bam, index, $"{name} (samtools index {string.Join(' ', options)})");
        }

        Assert.True(made is 0 or 3 || (made == 2 && name.Contains("large_coordinates", StringComparison.Ordinal)), $"{name}: samtools made {made} of 3 indexes");
    }

    private static void AssertIdxstats(string bam, BamIndex index, string label)
    {
        (int code, byte[] stdout, string error) = Samtools.Run(null, "idxstats", bam);
        Assert.True(code == 0, $"{label}: samtools idxstats: {error}");
        string[] lines = Encoding.UTF8.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(index.ReferenceCount + 1, lines.Length);
        for (int tid = 0; tid < index.ReferenceCount; tid++)
        {
            string[] f = lines[tid].Split('\t');
            (ulong mapped, ulong unmapped) = index.Counts(tid) ?? (0, 0);
            Assert.True(ulong.Parse(f[2], CultureInfo.InvariantCulture) == mapped && ulong.Parse(f[3], CultureInfo.InvariantCulture) == unmapped, $"{label}: reference {tid} ({f[0]}): samtools {f[2]}/{f[3]}, ours {mapped}/{unmapped}");
        }

        string[] last = lines[^1].Split('\t');
        Assert.Equal("*", last[0]);
        Assert.True(ulong.Parse(last[3], CultureInfo.InvariantCulture) == (index.UnplacedCount ?? 0), $"{label}: unplaced: samtools {last[3]}, ours {index.UnplacedCount}");
    }
}
