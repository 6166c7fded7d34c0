using System.Text.Json;
using Bamflow.Arrow;
using Bamflow.Dataflow;
using Bamflow.Parquet;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Parquet;

/// <summary>Convert to Parquet, read it back with DuckDB, render each row as SAM, compare with samtools view.</summary>
public sealed class ParquetCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-parquet-").FullName;

    public static TheoryData<string> GoodFiles => [.. SharedData.CorpusFiles(bad: false)];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void Convert_CorpusFile_DuckDbReadsEveryRowAsSamtoolsPrintsIt(string name)
    {
        string path = SharedData.CorpusPath(name);
        string output = Path.Combine(_dir, "out.parquet");
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path);

        ConversionSummary summary = ParquetSam.Convert(path, output);

        ArrowSam.AssertSame(expected, ParquetSam.Lines(output), name);
        Assert.Equal(expected.Count, summary.Records);
        Dictionary<string, string> metadata = ParquetSam.KeyValueMetadata(output);
        (int code, byte[] header, string error) = Samtools.Run(null, "view", "-H", "--no-PG", path);
        Assert.True(code == 0, error);
        Assert.True(System.Text.Encoding.UTF8.GetString(header) == metadata[BamColumns.SamHeaderKey], $"{name}: sam.header differs from samtools view -H");
    }

    [Fact]
    public void Convert_EdgeCaseFixture_DuckDbReadsEveryRowAsSamtoolsPrintsIt()
    {
        string path = Conversion.Fixture("edge-cases.bam");
        string output = Path.Combine(_dir, "edge.parquet");

        ParquetSam.Convert(path, output, pipeline: new PipelineOptions { Threads = 2 });

        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ParquetSam.Lines(output), "edge-cases.bam");
    }

    [CorpusFact]
    public void Metadata_CarriesHeaderCoordinatesVersionSourceAndTagTypes()
    {
        string path = SharedData.CorpusPath("samtools__test_input_1_d.bam");
        string output = Path.Combine(_dir, "meta.parquet");

        ParquetSam.Convert(path, output);

        Dictionary<string, string> metadata = ParquetSam.KeyValueMetadata(output);
        Assert.Equal(BamColumns.CoordinatesValue, metadata[BamColumns.CoordinatesKey]);
        Assert.Equal(BamArrowSchema.Version, metadata[BamColumns.VersionKey]);
        Assert.Equal(path, metadata[BamColumns.SourceKey]);
        Assert.Contains("ARROW:schema", metadata.Keys); // so Arrow readers get the dictionary types and field metadata back
        using var tagTypes = JsonDocument.Parse(metadata[ParquetSink.TagTypesKey]);
        Assert.Equal(JsonValueKind.Object, tagTypes.RootElement.ValueKind);
        Assert.Equal("mixed", tagTypes.RootElement.GetProperty("FI").GetString()); // stored as A, C, Z and f across records
        Assert.Equal("i", tagTypes.RootElement.GetProperty("AS").GetString());
    }

    [CorpusFact]
    public async Task ArrowReader_GetsBackDictionaryTypesFieldMetadataAndEveryRow()
    {
        // The stored Arrow schema (ARROW:schema): an Arrow reader of Parquet (Arrow C++'s, through ParquetSharp,
        // as pyarrow and polars use it) restores the dictionary columns and the tag children's sam.type.
        string path = SharedData.CorpusPath("samtools__test_input_1_d.bam");
        string output = Path.Combine(_dir, "arrow.parquet");
        ParquetSam.Convert(path, output, new ConversionOptions { BatchSize = 5 }, sink: new ParquetSinkOptions { RowGroupSize = 4 });

        using var reader = new ParquetSharp.Arrow.FileReader(output);
        using Apache.Arrow.Ipc.IArrowArrayStream stream = reader.GetRecordBatchReader();
        var batches = new List<Apache.Arrow.RecordBatch>();
        while (await stream.ReadNextRecordBatchAsync(TestContext.Current.CancellationToken) is { } batch)
        {
            batches.Add(batch);
        }

        Apache.Arrow.Schema schema = reader.Schema;
        Assert.IsType<Apache.Arrow.Types.DictionaryType>(schema.GetFieldByName(BamColumns.RName).DataType);
        Assert.IsType<Apache.Arrow.Types.DictionaryType>(schema.GetFieldByName(BamColumns.RNext).DataType);
        var tags = (Apache.Arrow.Types.StructType)schema.GetFieldByName(BamColumns.Tags).DataType;
        Assert.Equal("mixed", tags.GetFieldByName("FI", StringComparer.Ordinal).Metadata[BamColumns.SamTypeKey]);
        Assert.Equal(ParquetSam.TagTypes(output).Keys, tags.Fields.Select(f => f.Name));
        Assert.All(tags.Fields, f => Assert.Equal(ParquetSam.TagTypes(output)[f.Name], f.Metadata[BamColumns.SamTypeKey]));
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ArrowSam.Lines(batches).ToList(), "Arrow reader of the Parquet file");
    }

    [CorpusFact]
    public void Metadata_TagTypes_NameEveryTagChildWithItsSamType()
    {
        // Float, string, B:C and B:c arrays, integers: a modified-base file.
        string path = SharedData.CorpusPath("modkit__ecoli_reg.sorted.bam");
        string output = Path.Combine(_dir, "tags.parquet");
        var tags = new ConversionOptions { TagMode = TagMode.Explicit, Tags = ["NM", "de", "MM", "ML", "mv"] };

        ParquetSam.Convert(path, output, tags);

        Assert.Equal("""{"NM":"i","de":"f","MM":"Z","ML":"B:C","mv":"B:c"}""", ParquetSam.KeyValueMetadata(output)[ParquetSink.TagTypesKey]);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path)
            .Select(l => l with { Tags = [.. l.Tags.Where(t => t[..2] is "NM" or "de" or "MM" or "ML" or "mv")] })
            .ToList();
        ArrowSam.AssertSame(expected, ParquetSam.Lines(output), "--tags NM,de,MM,ML,mv");
    }

    [CorpusFact]
    public void Metadata_NoTagColumns_TagTypesIsAnEmptyObject()
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        string output = Path.Combine(_dir, "none.parquet");

        ParquetSam.Convert(path, output, new ConversionOptions { TagMode = TagMode.None, IncludeSequence = false, IncludeQuality = false });

        Assert.Equal("{}", ParquetSam.KeyValueMetadata(output)[ParquetSink.TagTypesKey]);
        Assert.Equal(["qname", "flag", "rname", "pos", "mapq", "cigar", "rnext", "pnext", "tlen", "end"], ParquetSam.Columns(output));
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path)
            .Select(l => new ArrowSam.Line(string.Join('\t', l.Fields.Split('\t').Take(9).Append("(no seq)").Append("(no qual)")), []))
            .ToList();
        ArrowSam.AssertSame(expected, ParquetSam.Lines(output), "--tags none --no-seq --no-qual");
    }
}
