using System.Text;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bam.Index;

/// <summary>
/// <see cref="RegionParser.Parse"/> against samtools 1.16: every case's expected 0-based half-open interval (or error) is
/// also proven by <c>samtools view FIXTURE REGION</c> on a fixture whose reads are one base long at known positions, so
/// the reads samtools prints are exactly those whose position lies in the interval.
/// </summary>
public sealed class RegionParserTests : IDisposable
{
    private const long Open = GenomicRegion.OpenEnd;

    // References named to create htslib's documented ambiguity (chr1 and chr1:1-100) and an HLA-style name with colons.
    private static readonly (string Name, int Length, int[] Positions)[] s_references =
    [
        ("chr1", 1000, [1, 5, 99, 100, 101, 150, 999, 1000]),
        ("chr1:1-100", 500, [1, 50, 200, 500]),
        ("HLA-A*01:01:01:01", 300, [1, 10, 300]),
        ("chr2", 2_000_000, [1, 999, 1000, 1001, 1_500_000, 2_000_000]),
    ];

    private readonly TempFolder _temp = new("bamflow-region-parser-");
    private readonly string _bam;
    private readonly BamHeader _header;

    public RegionParserTests()
    {
        var sam = new StringBuilder("@HD\tVN:1.6\tSO:coordinate\n");
        foreach ((string name, int length, _) in s_references)
        {
            sam.Append($"@SQ\tSN:{name}\tLN:{length}\n");
        }

        foreach ((string name, _, int[] positions) in s_references)
        {
            foreach (int p in positions)
            {
                sam.Append($"r_{name}_{p}\t0\t{name}\t{p}\t60\t1M\t*\t0\t0\tA\tI\n");
            }
        }

        sam.Append("u1\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\n");
        _bam = Path.Combine(_temp.Path, "regions.bam");
        File.WriteAllBytes(_bam, Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString())));
        (int code, _, string error) = Samtools.Run(null, "index", _bam);
        Assert.True(code == 0, error);
        using BamReader reader = BamReader.Open(_bam);
        _header = reader.Header;
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>Region, expected reference (null: '*'), 0-based begin and exclusive end; all checked by samtools view.</summary>
    public static TheoryData<string, string?, long, long> Intervals() => new()
    {
        { "chr1", "chr1", 0, Open },
        { "chr1:100", "chr1", 99, Open },
        { "chr1:100-150", "chr1", 99, 150 },
        { "chr1:-100", "chr1", 0, 100 },
        { "chr1:100-", "chr1", 99, Open },
        { "chr1:", "chr1", 0, Open },
        { "chr1:-", "chr1", 0, Open },
        { "chr1:100-100", "chr1", 99, 100 },
        { "chr1:1-1", "chr1", 0, 1 },
        { "chr1:1000-1000", "chr1", 999, 1000 },
        { "chr1:100-0", "chr1", 99, Open },                 // an end of 0 is no end
        { "chr1:+100-+150", "chr1", 99, 150 },
        { "chr1: 100-150", "chr1", 99, 150 },               // strtoll-style leading space in a number
        { "chr1:100-150,", "chr1", 99, 150 },               // a trailing comma is a thousands separator
        // Thousands separators anywhere in the digits.
        { "chr1:1,000", "chr1", 999, Open },
        { "chr1:1,0,0-1,5,0", "chr1", 99, 150 },
        { "chr1:1,00", "chr1", 99, Open },
        // k/M/G suffixes, fractions and exponents (hts_parse_decimal).
        { "chr2:1k", "chr2", 999, Open },
        { "chr2:1k-1.5M", "chr2", 999, 1_500_000 },
        { "chr2:1.5M", "chr2", 1_499_999, Open },
        { "chr2:1e3-1001", "chr2", 999, 1001 },
        { "chr2:1K-1.0010k", "chr2", 999, 1001 },
        { "chr1:1g", "chr1", 999_999_999, Open },
        { "chr2:1-3000000000", "chr2", 0, Open },           // ends clamp to INT_MAX
        // Begins of 0 are 1; negative begins: chr:-N is chr:1-N.
        { "chr1:0", "chr1", 0, Open },
        { "chr1:0-5", "chr1", 0, 5 },
        { "chr1:0-0", "chr1", 0, Open },
        { "chr1:-5", "chr1", 0, 5 },
        // Past the reference's end: a valid region with no reads.
        { "chr1:990-5000", "chr1", 989, 5000 },
        { "chr1:1001-2000", "chr1", 1000, 2000 },
        // Names with ':' (the whole text is tried as a name first) and braces.
        { "{chr1:1-100}", "chr1:1-100", 0, Open },
        { "{chr1}:100-150", "chr1", 99, 150 },
        { "{chr1}", "chr1", 0, Open },
        { "chr1:1-100:1-50", "chr1:1-100", 0, 50 },
        { "chr1:1-100:", "chr1:1-100", 0, Open },
        { "chr1:1-100:0", "chr1:1-100", 0, Open },
        { "{chr1:1-100}:-50", "chr1:1-100", 0, 50 },
        { "HLA-A*01:01:01:01", "HLA-A*01:01:01:01", 0, Open },
        { "HLA-A*01:01:01:01:5-10", "HLA-A*01:01:01:01", 4, 10 },
        { "{HLA-A*01:01:01:01}:5-10", "HLA-A*01:01:01:01", 4, 10 },
        { "*", null, 0, 0 },
    };

    /// <summary>
    /// Regions samtools rejects ("specifies an invalid region or unknown reference"). samtools warns, prints nothing for
    /// them and continues with exit 0; bamflow deliberately makes a bad region an error (exit 2), so Parse throws.
    /// </summary>
    public static TheoryData<string, RegionFormatError> Errors() => new()
    {
        { "chr1:1-100", RegionFormatError.Ambiguous },      // chr1:1-100 is a name, and chr1 with 1-100
        { "HLA-A*01:01:01", RegionFormatError.UnknownReference },
        { "chr3", RegionFormatError.UnknownReference },
        { "", RegionFormatError.UnknownReference },
        { " chr1", RegionFormatError.UnknownReference },    // names are not trimmed
        { "chr1 ", RegionFormatError.UnknownReference },
        { "{}", RegionFormatError.UnknownReference },
        { "{chr1}x", RegionFormatError.UnknownReference },
        { ":100", RegionFormatError.UnknownReference },
        { "*:1-5", RegionFormatError.UnknownReference },
        { "chr1:1-100:1-100:5", RegionFormatError.UnknownReference },
        { "chr1:100 -150", RegionFormatError.Malformed },
        { "chr1:100-150 ", RegionFormatError.Malformed },
        { "chr1:abc", RegionFormatError.Malformed },
        { "chr1:100x", RegionFormatError.Malformed },
        { "chr1:100-150x", RegionFormatError.Malformed },
        { "{chr1", RegionFormatError.Malformed },
        { "chr1:-5-10", RegionFormatError.Malformed },      // htslib: "Coordinates must be > 0"
        { "chr1:150-100", RegionFormatError.Empty },
        { "chr1:101-100", RegionFormatError.Empty },
    };

    [Theory]
    [MemberData(nameof(Intervals))]
    public void Parse_Region_IntervalSamtoolsReads(string region, string? reference, long begin, long end)
    {
        GenomicRegion parsed = RegionParser.Parse(region, _header);
        int tid = reference is null ? -1 : IndexOf(reference);
        Assert.Equal(new GenomicRegion(tid, begin, end), parsed);

        // The proof: samtools reads exactly the fixture's reads inside [begin, end) of that reference.
        (int code, byte[] stdout, string stderr) = Samtools.Run(null, "view", _bam, region);
        Assert.True(code == 0 && !stderr.Contains("invalid region", StringComparison.Ordinal), $"{region}: {stderr}");
        string[] names = Encoding.ASCII.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
        string[] expected = reference is null
            ? ["u1"]
            : s_references[tid].Positions.Where(p => p - 1 >= begin && p - 1 < end).Select(p => $"r_{reference}_{p}").ToArray();
        Assert.Equal(expected, names);
    }

    [Theory]
    [MemberData(nameof(Errors))]
    public void Parse_BadRegion_ThrowsWhereSamtoolsRejectsIt(string region, RegionFormatError reason)
    {
        RegionFormatException e = Assert.Throws<RegionFormatException>(() => RegionParser.Parse(region, _header));
        Assert.Equal(reason, e.Reason);
        Assert.Equal(region, e.Region);

        (int code, byte[] stdout, string stderr) = Samtools.Run(null, "view", _bam, region);
        Assert.Equal(0, code); // samtools only warns
        Assert.Empty(stdout);
        Assert.Contains("specifies an invalid region or unknown reference", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BeginPastIntMax_ErrorWhereSamtoolsReadsNothing()
    {
        // samtools prints nothing and no warning for a begin beyond INT_MAX (its end is clamped to INT_MAX, leaving an
        // empty interval). Deliberate difference: bamflow reports the empty region as an error (exit 2).
        (int code, byte[] stdout, string stderr) = Samtools.Run(null, "view", _bam, "chr1:3000000000");
        Assert.True(code == 0 && stdout.Length == 0 && stderr.Length == 0, stderr);
        RegionFormatException e = Assert.Throws<RegionFormatException>(() => RegionParser.Parse("chr1:3000000000", _header));
        Assert.Equal(RegionFormatError.Empty, e.Reason);
    }

    private static int IndexOf(string reference) => Array.FindIndex(s_references, r => r.Name == reference);
}
