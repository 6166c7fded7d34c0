using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Arrow;

/// <summary>
/// The names of the tags struct's children in case-insensitive engines (DuckDB, Spark, Trino, Hive): every tag
/// reachable by a documented name, no name reaching another tag's values.
/// </summary>
public sealed class TagNamingTests
{
    /// <summary>The children of tests/fixtures/case-tags.bam in column order: (child name, exact tag, SAM type), as README documents the rule.</summary>
    public static readonly (string Name, string Tag, string Type)[] CaseTagsChildren =
    [
        ("NH", "NH", "i"), ("NM_uu", "NM", "i"), ("nM_lu", "nM", "i"), ("BC_uu", "BC", "Z"), ("Bc_ul", "Bc", "Z"),
        ("MD_uu", "MD", "Z"), ("md_ll", "md", "mixed"), ("mD_lu", "mD", "i"), ("X0_u", "X0", "i"), ("x0_l", "x0", "Z"),
        ("zz", "zz", "Z"), ("BA_uu", "BA", "B:i"), ("ba_ll", "ba", "B:f"), ("qx_ll", "qx", "i"), ("qX_lu", "qX", "i"),
        ("Md_ul", "Md", "f"), ("XA_uu", "XA", "mixed"), ("xa_ll", "xa", "mixed"),
    ];

    private static readonly string[] s_topLevelColumns =
    [
        BamColumns.QName, BamColumns.Flag, BamColumns.RName, BamColumns.Pos, BamColumns.Mapq, BamColumns.Cigar, BamColumns.RNext,
        BamColumns.PNext, BamColumns.Tlen, BamColumns.Seq, BamColumns.Qual, BamColumns.End, BamColumns.Tags, BamColumns.TagsOther,
    ];

    [Fact]
    public void ChildNames_NoTwoDifferOnlyInCase_EveryTagKeepsItsName()
    {
        string[] tags = ["NH", "NM", "MD", "zz", "x0", "RG", "ML"];

        Assert.Equal(tags, TagNaming.ChildNames(tags));
    }

    [Fact]
    public void ChildNames_StarNmAndLowerNm_BothNamedByTheirCase()
    {
        Assert.Equal(["NM_uu", "nM_lu", "NH"], TagNaming.ChildNames(["NM", "nM", "NH"]));
        Assert.Equal(["nM_lu", "NH", "NM_uu"], TagNaming.ChildNames(["nM", "NH", "NM"]));
    }

    [Fact]
    public void ChildNames_AllFourCaseVariants_OneSuffixEach()
    {
        Assert.Equal(["md_ll", "MD_uu", "Md_ul", "mD_lu"], TagNaming.ChildNames(["md", "MD", "Md", "mD"]));
    }

    [Fact]
    public void ChildNames_LetterThenDigit_SuffixHasOneLetter()
    {
        Assert.Equal(["x0_l", "X0_u", "X1"], TagNaming.ChildNames(["x0", "X0", "X1"]));
    }

    [Fact]
    public void ChildNames_OnlyLowerCaseMembers_StillRenamed()
    {
        Assert.Equal(["qx_ll", "qX_lu"], TagNaming.ChildNames(["qx", "qX"]));
    }

    [Fact]
    public void ChildNames_NamesThatAreNotSamTags_StillDistinct()
    {
        Assert.Equal(["??", "??_2", "NM"], TagNaming.ChildNames(["??", "??", "NM"]));
    }

    [Fact]
    public void ChildNames_RandomTagSets_DistinctIgnoringCaseOrderFreeAndPrefixedByTheTag()
    {
        // Tags from a small alphabet, so that many differ only in case; 2,000 sets of 1 to 12 tags.
        const string first = "NnMmBb";
        const string second = "NnMmCc01";
        string[] all = [.. first.SelectMany(a => second.Select(b => $"{a}{b}"))];
        var random = new Random(15);
        for (int round = 0; round < 2000; round++)
        {
            string[] tags = [.. all.OrderBy(_ => random.Next()).Take(random.Next(1, 13))];
            string[] names = TagNaming.ChildNames(tags);
            string context = string.Join(',', tags) + " → " + string.Join(',', names);

            Assert.True(names.Distinct(StringComparer.OrdinalIgnoreCase).Count() == names.Length, context);
            for (int i = 0; i < tags.Length; i++)
            {
                bool collides = tags.Any(t => t != tags[i] && string.Equals(t, tags[i], StringComparison.OrdinalIgnoreCase));
                Assert.True(names[i].StartsWith(tags[i], StringComparison.Ordinal), context);
                Assert.True(collides == (names[i] != tags[i]), context);
                Assert.DoesNotContain(tags, t => t != tags[i] && string.Equals(t, names[i], StringComparison.OrdinalIgnoreCase));
                Assert.DoesNotContain(s_topLevelColumns, c => string.Equals(c, names[i], StringComparison.OrdinalIgnoreCase));
            }

            string[] reversed = TagNaming.ChildNames([.. tags.Reverse()]);
            Assert.Equal(names.Reverse(), reversed);
        }
    }

    [Fact]
    public void Convert_CaseTagsFixture_ChildrenNamedWithExactTagMetadataAndRowsMatchSamtools()
    {
        string path = Conversion.Fixture("case-tags.bam");

        List<RecordBatch> batches = Conversion.ToBatches(path);

        var tags = (StructType)batches[0].Schema.GetFieldByName(BamColumns.Tags).DataType;
        Assert.Equal(CaseTagsChildren.Select(c => c.Name), tags.Fields.Select(f => f.Name));
        Assert.Equal(CaseTagsChildren.Select(c => c.Tag), tags.Fields.Select(f => f.Metadata[BamColumns.SamTagKey]));
        Assert.Equal(CaseTagsChildren.Select(c => c.Type), tags.Fields.Select(f => f.Metadata[BamColumns.SamTypeKey]));
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), [.. ArrowSam.Lines(batches)], "case-tags.bam");
    }

    [Fact]
    public void Convert_ExplicitTagListedTwice_OneChildWithTheValues()
    {
        string path = Conversion.Fixture("sample.bam");

        List<RecordBatch> batches = Conversion.ToBatches(path, new ConversionOptions { TagMode = TagMode.Explicit, Tags = ["NM", "NM"] });

        var tags = (StructType)batches[0].Schema.GetFieldByName(BamColumns.Tags).DataType;
        Assert.Equal(["NM"], tags.Fields.Select(f => f.Name));
        ArrowSam.AssertSame(ArrowSam.SamtoolsView(["--keep-tag", "NM"], path), [.. ArrowSam.Lines(batches)], "sample.bam --tags NM,NM");
    }
}
