using Bamflow.Bam;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Corpus;

/// <summary>The repository's own fixtures (tests/fixtures, SAM text written by hand, made into BAM by samtools).</summary>
public sealed class FixtureAgreementTests
{
    public static TheoryData<string> Fixtures =>
        [.. Directory.GetFiles(FixtureFolder, "*.bam").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    private static string FixtureFolder => Path.Combine(AppContext.BaseDirectory, "fixtures");

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Records_Fixture_MatchSamtoolsView(string name)
    {
        string path = Path.Combine(FixtureFolder, name);

        SamComparison.Outcome outcome = SamComparison.CompareRecords(path, name);

        Assert.Null(outcome.Error);
        Assert.True(outcome.Records > 0, $"{name} has records");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Header_Fixture_MatchesSamtoolsAndTheHandWrittenText(string name)
    {
        string path = Path.Combine(FixtureFolder, name);
        (int code, byte[] expected, string error) = Samtools.Run(null, "view", "-H", "--no-PG", path);
        Assert.True(code == 0, error);
        using BamReader reader = BamReader.Open(path);

        Assert.Equal(expected, reader.Header.ToSamText());

        // The second oracle: the header lines of the SAM text the fixture was made from (sorting rewrites @HD SO).
        string[] written = File.ReadLines(Path.ChangeExtension(path, ".sam")).Where(l => l.StartsWith('@') && !l.StartsWith("@HD", StringComparison.Ordinal)).ToArray();
        Assert.Equal(written, reader.Header.Text.TrimEnd('\n').Split('\n').Where(l => !l.StartsWith("@HD", StringComparison.Ordinal)));
    }

    [Fact]
    public void EdgeCases_HandWrittenFields_DecodeToTheWrittenValues()
    {
        // Independent of samtools' rendering: fields checked against the SAM text as written.
        using BamReader reader = BamReader.Open(Path.Combine(FixtureFolder, "edge-cases.bam"));
        var seen = new Dictionary<string, (int RefId, int Pos, int Mapq, string Cigar, int Tlen)>();
        var text = new TextBuffer();
        while (reader.TryRead(out BamRecord record))
        {
            text.Clear();
            CigarDecoder.Append(record.Cigar, text);
            seen[System.Text.Encoding.UTF8.GetString(record.ReadName)] =
                (record.ReferenceId, record.Position, record.MappingQuality, System.Text.Encoding.ASCII.GetString(text.WrittenSpan), record.TemplateLength);
        }

        Assert.Equal((0, 6, 30, "2S3M1I2D2N1=1X1P1M2H", 39), seen["allops"]);
        Assert.Equal((0, 36, 30, "10M", -39), seen["mate"]);
        Assert.Equal((-1, -1, 0, "", 0), seen["noseq"]);
        Assert.Equal((2, 1_000_000_000, 60, "20M", 0), seen["highpos"]);
        Assert.Equal(16, reader.RecordCount);
        Assert.Equal(["chr1", "chrM", "big"], reader.Header.References.Select(r => r.Name));
        Assert.Equal(1_000_000_020, reader.Header.References[2].Length);
    }
}
