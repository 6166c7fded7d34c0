using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Arrow;

/// <summary>Convert, read back with the Arrow reader, render each row as SAM, compare with samtools view.</summary>
public sealed class ArrowCorpusTests
{
    public static TheoryData<string> GoodFiles => [.. SharedData.CorpusFiles(bad: false)];

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void Convert_CorpusFile_EveryRowMatchesSamtools(string name)
    {
        string path = SharedData.CorpusPath(name);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path);

        List<RecordBatch> batches = Conversion.ToBatches(path);

        ArrowSam.AssertSame(expected, ArrowSam.Lines(batches).ToList(), name);
        Assert.All(batches, b => Assert.True(b.Length <= ConversionOptions.DefaultBatchSize));
    }

    [Fact]
    public void Convert_EdgeCaseFixture_EveryRowMatchesSamtools()
    {
        string path = Conversion.Fixture("edge-cases.bam");

        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ArrowSam.Lines(Conversion.ToBatches(path)).ToList(), "edge-cases.bam");
    }

    [CorpusFact]
    public void Convert_MixedTypeTags_KeepTheTypeInTheText()
    {
        // FI is stored as A, C, Z and f in different records; AS as C/S/c (integers never conflict).
        string path = SharedData.CorpusPath("samtools__test_input_1_d.bam");

        List<RecordBatch> batches = Conversion.ToBatches(path);

        var tags = (Apache.Arrow.Types.StructType)batches[0].Schema.GetFieldByName(BamColumns.Tags).DataType;
        Assert.Equal("mixed", tags.GetFieldByName("FI", StringComparer.Ordinal).Metadata[BamColumns.SamTypeKey]);
        Assert.Equal("i", tags.GetFieldByName("AS", StringComparer.Ordinal).Metadata[BamColumns.SamTypeKey]);
        Assert.IsType<Apache.Arrow.Types.StringType>(tags.GetFieldByName("FI", StringComparer.Ordinal).DataType);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ArrowSam.Lines(batches).ToList(), "test_input_1_d");
    }

    [CorpusFact]
    public void Schema_Metadata_CarriesHeaderCoordinatesVersionAndSource()
    {
        string path = SharedData.CorpusPath("samtools__mpileup.1.bam");
        (int code, byte[] header, _) = Samtools.Run(null, "view", "-H", "--no-PG", path);
        Assert.Equal(0, code);

        Schema schema = Conversion.ToBatches(path)[0].Schema;

        Assert.Equal(System.Text.Encoding.UTF8.GetString(header), schema.Metadata[BamColumns.SamHeaderKey]);
        Assert.Equal(BamColumns.CoordinatesValue, schema.Metadata[BamColumns.CoordinatesKey]);
        Assert.Equal(BamArrowSchema.Version, schema.Metadata[BamColumns.VersionKey]);
        Assert.Equal(path, schema.Metadata[BamColumns.SourceKey]);
        var rname = (DictionaryArray)Conversion.ToBatches(path)[0].Column(BamColumns.RName);
        Assert.Equal(86, rname.Dictionary.Length); // the header's 86 references, in order
    }

    [CorpusFact]
    public void Convert_TagScanOfOneRecord_LaterTagsLandInTagsOther()
    {
        // Unmapped reads first: record 1 has fewer tags than mapped records later.
        string path = SharedData.CorpusPath("10x-bamtofastq__cr12.bam");
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path);
        string[] firstTags = [.. expected[0].Tags.Select(t => t[..2])];

        List<RecordBatch> batches = Conversion.ToBatches(path, new ConversionOptions { TagScanRecords = 1 });

        var tags = (Apache.Arrow.Types.StructType)batches[0].Schema.GetFieldByName(BamColumns.Tags).DataType;
        Assert.Equal(firstTags.Order(StringComparer.Ordinal), tags.Fields.Select(f => f.Metadata[BamColumns.SamTagKey]).Order(StringComparer.Ordinal));
        var other = (StringArray)batches[0].Column(BamColumns.TagsOther);
        for (int row = 0; row < batches[0].Length; row++)
        {
            bool hasLaterTags = expected[row].Tags.Any(t => !firstTags.Contains(t[..2]));
            Assert.True(hasLaterTags == !other.IsNull(row), $"row {row + 1}: tags_other is {(other.IsNull(row) ? "null" : other.GetString(row))}");
        }

        ArrowSam.AssertSame(expected, ArrowSam.Lines(batches).ToList(), "tag-scan 1");
    }

    [CorpusFact]
    public void Convert_ExplicitTags_KeepsOnlyThoseTags()
    {
        string path = SharedData.CorpusPath("htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam");
        var options = new ConversionOptions { TagMode = TagMode.Explicit, Tags = ["NM", "MD", "ZZ"] };
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path)
            .Select(l => l with { Tags = [.. l.Tags.Where(t => t.StartsWith("NM:", StringComparison.Ordinal) || t.StartsWith("MD:", StringComparison.Ordinal))] })
            .ToList();

        List<RecordBatch> batches = Conversion.ToBatches(path, options);

        var tags = (Apache.Arrow.Types.StructType)batches[0].Schema.GetFieldByName(BamColumns.Tags).DataType;
        Assert.Equal(["NM", "MD", "ZZ"], tags.Fields.Select(f => f.Name));
        Assert.Equal("mixed", tags.Fields[2].Metadata[BamColumns.SamTypeKey]); // never seen: kept as SAM text if it ever appears
        ArrowSam.AssertSame(expected, ArrowSam.Lines(batches).ToList(), "--tags NM,MD,ZZ");
    }

    [CorpusFact]
    public void Convert_TagsNoneNoSeqNoQual_LeavesThoseColumnsOut()
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        var options = new ConversionOptions { TagMode = TagMode.None, IncludeSequence = false, IncludeQuality = false };
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path)
            .Select(l => new ArrowSam.Line(string.Join('\t', l.Fields.Split('\t').Take(9).Append("(no seq)").Append("(no qual)")), []))
            .ToList();

        List<RecordBatch> batches = Conversion.ToBatches(path, options);

        Assert.Equal(
            ["qname", "flag", "rname", "pos", "mapq", "cigar", "rnext", "pnext", "tlen", "end"],
            batches[0].Schema.FieldsList.Select(f => f.Name));
        ArrowSam.AssertSame(expected, ArrowSam.Lines(batches).ToList(), "--tags none --no-seq --no-qual");
    }

    [CorpusFact]
    public void EndColumn_MatchesSamtoolsEndpos()
    {
        // samtools' own idea of the end: `samtools view --customized-index`? Not in 1.16; use the region filter instead:
        // a record overlaps [p, p] exactly when pos <= p <= end, so end is checked against the reads samtools keeps.
        string path = SharedData.CorpusPath("rust-htslib__test_spliced_reads.bam");
        List<RecordBatch> batches = Conversion.ToBatches(path);
        var batch = batches[0];
        var rname = (DictionaryArray)batch.Column(BamColumns.RName);
        var pos = (Int32Array)batch.Column(BamColumns.Pos);
        var end = (Int32Array)batch.Column(BamColumns.End);
        var qname = (StringArray)batch.Column(BamColumns.QName);
        for (int row = 0; row < batch.Length; row += 7)
        {
            if (end.IsNull(row))
            {
                continue;
            }

            string chrom = ((StringArray)rname.Dictionary).GetString(((Int32Array)rname.Indices).GetValue(row)!.Value);
            int last = end.GetValue(row)!.Value;
            string name = qname.GetString(row);
            List<ArrowSam.Line> atEnd = ArrowSam.SamtoolsLines(path, $"{chrom}:{last}-{last}");
            List<ArrowSam.Line> afterEnd = ArrowSam.SamtoolsLines(path, $"{chrom}:{last + 1}-{last + 1}");
            Assert.Contains(atEnd, l => l.Fields.StartsWith(name + "\t", StringComparison.Ordinal) && l.Fields.Split('\t')[3] == pos.GetValue(row).ToString());
            Assert.DoesNotContain(afterEnd, l => l.Fields.StartsWith(name + "\t", StringComparison.Ordinal) && l.Fields.Split('\t')[3] == pos.GetValue(row).ToString());
        }
    }
}
