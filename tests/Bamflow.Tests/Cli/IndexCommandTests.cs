using Bamflow.Tests.Support;

namespace Bamflow.Tests.Cli;

/// <summary><c>bamflow index</c>: samtools index's options, output names, refusals and exit codes; no partial output.</summary>
public sealed class IndexCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-index-cli-").FullName;

    [Theory]
    [InlineData(new string[0], ".bai", "BAI\u0001")]
    [InlineData(new[] { "-c" }, ".csi", "CSI\u0001")]
    [InlineData(new[] { "-m", "12" }, ".csi", "CSI\u0001")]
    [InlineData(new[] { "-c", "-b" }, ".bai", "BAI\u0001")]
    [InlineData(new[] { "-b", "-c" }, ".csi", "CSI\u0001")]
    public void Index_Options_WritesDefaultNameAndFormatAsSamtools(string[] options, string extension, string magic)
    {
        string bam = Copy("sorted.bam");
        BamflowCli.Result result = BamflowCli.Run(["index", .. options, "-@", "2", bam]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        byte[] index = File.ReadAllBytes(bam + extension);
        byte[] content = magic[0] == 'C' ? LargeBam.Inflate(index) : index;
        Assert.Equal(magic, System.Text.Encoding.ASCII.GetString(content, 0, 4));

        // samtools, given the same options, writes the same index.
        string expected = Path.Combine(_dir, "samtools" + extension);
        (int code, _, string error) = Samtools.Run(null, ["index", .. options, bam, expected]);
        Assert.True(code == 0, error);
        byte[] oracle = File.ReadAllBytes(expected);
        Assert.Equal(magic[0] == 'C' ? LargeBam.Inflate(oracle) : oracle, content);
        if (options is ["-m", "12"])
        {
            Assert.Equal(12, BitConverter.ToInt32(content, 4)); // min_shift
        }
    }

    [Fact]
    public void Index_OutputArgumentAndOption_WriteThere()
    {
        string bam = Copy("sorted.bam");
        Assert.Equal(0, BamflowCli.Run("index", bam, Path.Combine(_dir, "a.idx")).ExitCode);
        Assert.Equal(0, BamflowCli.Run("index", "-o", Path.Combine(_dir, "b.idx"), bam).ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "a.idx")), File.ReadAllBytes(Path.Combine(_dir, "b.idx")));
        Assert.False(File.Exists(bam + ".bai"));
    }

    [Theory]
    [InlineData("unsorted.bam", "", "Unsorted positions on sequence #1: 1000 followed by 100")]
    [InlineData("unplaced-first.bam", "", "NO_COOR reads not in a single block at the end 0 -1")]
    [InlineData("split-reference.bam", "", "Chromosome blocks not continuous")]
    [InlineData("long.bam", "", "Region 536870911..536870961 cannot be stored in a bai index. Try using a csi index")]
    public void Index_Unindexable_ExitsOneWithSamtoolsVerdictAndKeepsExistingIndex(string fixture, string mode, string verdict)
    {
        string bam = Copy(fixture);
        (int samtoolsCode, _, string samtoolsError) = Samtools.Run(null, ["index", .. mode.Split(' ', StringSplitOptions.RemoveEmptyEntries), bam, Path.Combine(_dir, "samtools.idx")]);
        Assert.Equal(1, samtoolsCode);
        Assert.Contains(verdict, samtoolsError, StringComparison.Ordinal); // the text below is samtools' own

        File.WriteAllText(bam + ".bai", "an older index");
        BamflowCli.Result result = BamflowCli.Run("index", bam);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(verdict, result.Stderr, StringComparison.Ordinal);
        Assert.Contains(bam, result.Stderr, StringComparison.Ordinal);
        Assert.Equal("an older index", File.ReadAllText(bam + ".bai"));
        // Nothing else beside them: no temporary file left behind (samtools' own failed output aside).
        Assert.Equal([bam, bam + ".bai"], Directory.GetFiles(_dir).Where(f => !f.EndsWith("samtools.idx", StringComparison.Ordinal)).Order());
    }

    [Fact]
    public void Index_LongReferenceWithCsi_Succeeds()
    {
        string bam = Copy("long.bam");
        BamflowCli.Result result = BamflowCli.Run("index", "-c", bam);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(bam + ".csi"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Index_OntoItsOwnBam_RefusedAndTheBamKept(bool throughLink)
    {
        string bam = Copy("sorted.bam");
        byte[] before = File.ReadAllBytes(bam);
        string target = bam;
        if (throughLink)
        {
            target = Path.Combine(_dir, "link.bai");
            File.CreateSymbolicLink(target, bam);
        }

        BamflowCli.Result result = BamflowCli.Run("index", bam, target);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("overwritten", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(bam));
    }

    [Fact]
    public void Index_StandardInput_RefusedAsUsage()
    {
        BamflowCli.Result result = BamflowCli.Run(File.ReadAllBytes(Conversion.Fixture(Path.Combine("index", "sorted.bam"))), "index", "-");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'-' (standard input) cannot be indexed", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_MissingInput_ExitsOne()
    {
        BamflowCli.Result result = BamflowCli.Run("index", Path.Combine(_dir, "absent.bam"));
        Assert.Equal(1, result.ExitCode);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Copy(string fixture)
    {
        string path = Path.Combine(_dir, fixture);
        File.Copy(Conversion.Fixture(Path.Combine("index", fixture)), path);
        return path;
    }
}
