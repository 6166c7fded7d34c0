using System.Text;
using Bamflow.Bam;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Corpus;

/// <summary>A header with 50,000 references (a draft assembly's contigs), made by samtools from SAM text written here.</summary>
public sealed class ManyReferencesTests : IDisposable
{
    private const int References = 50_000;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"bamflow-refs-{Guid.NewGuid():N}.bam");

    public ManyReferencesTests()
    {
        var sam = new StringBuilder("@HD\tVN:1.6\tSO:unsorted\n");
        for (int i = 0; i < References; i++)
        {
            sam.Append("@SQ\tSN:contig_").Append(i).Append("\tLN:").Append(1000 + i).Append('\n');
        }

        // Records on the first, a middle and the last reference, mates across references, and an unplaced one.
        sam.Append("r1\t99\tcontig_0\t1\t60\t4M\tcontig_49999\t10\t0\tACGT\tIIII\n");
        sam.Append("r2\t0\tcontig_25000\t100\t7\t2M1I1M\t*\t0\t0\tACGT\t*\tNM:i:1\n");
        sam.Append("r3\t147\tcontig_49999\t10\t60\t4M\tcontig_0\t1\t0\tTTTT\tIIII\n");
        sam.Append("u\t4\t*\t0\t0\t*\t*\t0\t0\tNNNN\t####\n");
        File.WriteAllBytes(_path, Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString())));
    }

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Header_50000References_MatchesSamtoolsAndKeepsEveryReference()
    {
        (int code, byte[] expected, string error) = Samtools.Run(null, "view", "-H", "--no-PG", _path);
        Assert.True(code == 0, error);
        using BamReader reader = BamReader.Open(_path);

        Assert.Equal(expected, reader.Header.ToSamText());
        Assert.Equal(References, reader.Header.References.Count);
        Assert.Equal(("contig_49999", 50_999), (reader.Header.References[^1].Name, reader.Header.References[^1].Length));
    }

    [Fact]
    public void Records_50000References_MatchSamtoolsInTextAndInArrow()
    {
        SamComparison.Outcome outcome = SamComparison.CompareRecords(_path, "50,000 references");
        Assert.Null(outcome.Error);
        Assert.Equal(4, outcome.Records);

        var batches = Conversion.ToBatches(_path);

        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(_path), ArrowSam.Lines(batches).ToList(), "50,000 references, Arrow");
        var rname = (Apache.Arrow.DictionaryArray)batches[0].Column(Bamflow.Arrow.BamColumns.RName);
        Assert.Equal(References, rname.Dictionary.Length);
    }
}
