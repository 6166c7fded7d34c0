using System.Text;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary>
/// <c>bamflow convert|stats|schema IN.bam REGION… [-M] [-L BED] [-X INDEX]</c> as a samtools user types them: the rows
/// are samtools view's for the same arguments; flagstat over a selection is samtools flagstat of samtools view's
/// selection; every way of getting it wrong exits as the README says, naming what is wrong.
/// </summary>
public sealed class RegionCliTests : IDisposable
{
    private readonly TempFolder _temp = new("bamflow-region-cli-");
    private readonly string _bam;

    public RegionCliTests()
    {
        _bam = Path.Combine(_temp.Path, "sample.bam");
        File.Copy(Conversion.Fixture("sample.bam"), _bam);
        File.SetLastWriteTimeUtc(_bam, DateTime.UtcNow.AddMinutes(-5)); // the index made next is newer
        Assert.Equal(0, Samtools.Run(null, ["index", _bam]).ExitCode);
    }

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("chrA:1,000-2,000")]
    [InlineData("chrB")]
    [InlineData("chrA:5000", "chrB:-300")]
    [InlineData("*")]
    [InlineData("{chrA}:100-200", "chrA:150-400", "chrA:120-130")]
    [InlineData("-M", "chrA:100-200", "chrA:150-400", "chrA:120-130")]
    [InlineData("-M", "chrB:100-2000", "chrA:150-400", "*")]
    public void Convert_Regions_AreSamtoolsViewRows(params string[] arguments)
    {
        string output = Path.Combine(_temp.Path, "out.arrow");
        var result = BamflowCli.Run(["convert", _bam, .. arguments, "-o", output, "--quiet"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsView(arguments.Where(a => a == "-M").ToArray(), _bam, [.. arguments.Where(a => a != "-M")]);
        Assert.NotEmpty(expected);
        ArrowSam.AssertSame(expected, [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false))], string.Join(' ', arguments));
    }

    [Theory]
    [InlineData]
    [InlineData("--json")]
    public void Stats_OverRegions_IsSamtoolsFlagstatOfTheSelection(params string[] json)
    {
        string[] regions = ["chrA:2000-9000", "chrB:1-5000", "*"];
        var result = BamflowCli.Run(["stats", _bam, .. regions, .. json]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        byte[] selection = Samtools.Run(null, ["view", "-u", _bam, .. regions]).Stdout;
        string expected = Encoding.UTF8.GetString(Samtools.Run(selection, ["flagstat", .. json.Length > 0 ? new[] { "-O", "json" } : [], "-"]).Stdout);
        Assert.Equal(expected, result.StdoutText);
    }

    [Fact]
    public void Convert_BedFile_WithAndWithoutAnIndex_IsSamtoolsView()
    {
        string bed = Path.Combine(_temp.Path, "t.bed");
        File.WriteAllText(bed, "chrA\t100\t900\nchrB\t4000\t4001\nchrA\t850\t3000\n");
        string noIndex = Path.Combine(_temp.Path, "copy.bam");
        File.Copy(Conversion.Fixture("sample.bam"), noIndex);
        foreach (string input in new[] { _bam, noIndex })
        {
            string output = Path.Combine(_temp.Path, "bed.arrow");
            var result = BamflowCli.Run("convert", input, "-L", bed, "-o", output, "--quiet");
            Assert.True(result.ExitCode == 0, result.Stderr);
            ArrowSam.AssertSame(ArrowSam.SamtoolsView(["-L", bed], input), [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false))], input);
        }
    }

    [Fact]
    public void Convert_IndexGivenWithX_OrInTheInputName_IsUsed()
    {
        string elsewhere = Path.Combine(_temp.Path, "elsewhere.bai");
        File.Move(_bam + ".bai", elsewhere);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsView([], _bam + "##idx##" + elsewhere, "chrA:3000-4000");
        foreach (string[] arguments in new[] { new[] { _bam, "-X", elsewhere }, [_bam + "##idx##" + elsewhere] })
        {
            string output = Path.Combine(_temp.Path, "x.arrow");
            var result = BamflowCli.Run(["convert", .. arguments, "chrA:3000-4000", "-o", output, "--quiet"]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            ArrowSam.AssertSame(expected, [.. ArrowSam.Lines(ArrowSam.ReadAll(File.ReadAllBytes(output), stream: false))], string.Join(' ', arguments));
        }
    }

    [Fact]
    public void Region_WithoutAnIndex_ExitsOneSayingHowToMakeOne()
    {
        File.Delete(_bam + ".bai");
        var result = BamflowCli.Run("convert", _bam, "chrA:1-100", "-o", Path.Combine(_temp.Path, "n.arrow"), "--quiet");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bamflow index", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("sample.bam", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_temp.Path, "n.arrow")));
    }

    [Theory]
    [InlineData("chrQ:1-100", "chrQ")]
    [InlineData("chrA:abc", "chrA:abc")]
    [InlineData("chrA:200-100", "chrA:200-100")]
    public void BadRegion_ExitsTwoNamingIt(string region, string named)
    {
        var result = BamflowCli.Run("convert", _bam, "chrA:1-100", region, "-o", Path.Combine(_temp.Path, "b.arrow"), "--quiet");
        Assert.True(result.ExitCode == 2, result.Stderr);
        Assert.Contains(named, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void StaleIndex_ExitsOne()
    {
        File.SetLastWriteTimeUtc(_bam, DateTime.UtcNow.AddMinutes(5)); // the BAM changed after its index was made
        var result = BamflowCli.Run("convert", _bam, "chrA", "-o", Path.Combine(_temp.Path, "s.arrow"), "--quiet");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("older", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void TruncatedIndex_ExitsOneNamingTheIndex(double keep)
    {
        byte[] index = File.ReadAllBytes(_bam + ".bai");
        File.WriteAllBytes(_bam + ".bai", index[..(int)(index.Length * keep)]);
        var result = BamflowCli.Run("convert", _bam, "chrB:1-1000", "-o", Path.Combine(_temp.Path, "t.arrow"), "--quiet");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("sample.bam.bai", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Region_OnStandardInput_ExitsOne()
    {
        var result = BamflowCli.Run(File.ReadAllBytes(_bam), "convert", "-", "chrA", "-o", Path.Combine(_temp.Path, "i.arrow"), "--quiet");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("standard input", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_OfARegion_ScansItsRecords()
    {
        var result = BamflowCli.Run("schema", _bam, "chrB:1-2000");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("qname", result.StdoutText, StringComparison.Ordinal);
    }
}
