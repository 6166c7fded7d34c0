using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Parquet;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Parquet;

/// <summary>The sink's options, as DuckDB sees their effect in the file, and its behaviour across runs and failures.</summary>
public sealed class ParquetSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-parquet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [CorpusTheory]
    [InlineData(ParquetCompression.Zstd, "ZSTD")]
    [InlineData(ParquetCompression.Snappy, "SNAPPY")]
    [InlineData(ParquetCompression.None, "UNCOMPRESSED")]
    public void Compression_EveryColumnChunkUsesIt(ParquetCompression compression, string duckDbName)
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        string output = Path.Combine(_dir, $"{compression}.parquet");

        ParquetSam.Convert(path, output, sink: new ParquetSinkOptions { Compression = compression });

        Assert.All(ParquetSam.RowGroups(output), g => Assert.Equal([duckDbName], g.Compression));
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ParquetSam.Lines(output), $"compression {compression}");
    }

    [CorpusFact]
    public void RowGroupSize_CutsRowGroupsAcrossBatches()
    {
        // 20,000 records in batches of 7 and row groups of 3,000: groups do not depend on where batches end.
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        string output = Path.Combine(_dir, "groups.parquet");

        ParquetSam.Convert(path, output, new ConversionOptions { BatchSize = 7 }, sink: new ParquetSinkOptions { RowGroupSize = 3000 });

        Assert.Equal([3000, 3000, 3000, 3000, 3000, 3000, 2000], ParquetSam.RowGroups(output).Select(g => g.Rows));
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ParquetSam.Lines(output), "--batch-size 7 --row-group-size 3000");
    }

    [CorpusFact]
    public void DefaultRowGroupSize_CutsGroupsAcrossBatches()
    {
        string path = SharedData.CorpusPath("hmftools__pseudo_ig_regions.sorted.bam"); // 450,000 records
        string output = Path.Combine(_dir, "default.parquet");

        ParquetSam.Convert(path, output);

        Assert.Equal(131_072, ParquetSinkOptions.DefaultRowGroupSize);
        Assert.Equal([131_072L, 131_072L, 131_072L, 450_000L - (3 * 131_072L)], ParquetSam.RowGroups(output).Select(g => g.Rows));
    }

    [CorpusFact]
    public void Dictionary_OnlyReferenceNamesAndReadGroup()
    {
        string path = SharedData.CorpusPath("picard__test.bam"); // RG:Z on every record
        string output = Path.Combine(_dir, "dict.parquet");

        ParquetSam.Convert(path, output);

        Dictionary<string, string> encodings = ParquetSam.RowGroups(output)[0].Encodings;
        foreach (string column in (string[])["rname", "rnext", "tags.RG"])
        {
            Assert.Contains("RLE_DICTIONARY", encodings[column], StringComparison.Ordinal);
        }

        foreach (string column in (string[])["qname", "seq", "qual", "cigar", "pos"])
        {
            Assert.DoesNotContain("DICTIONARY", encodings[column], StringComparison.Ordinal);
        }
    }

    [CorpusFact]
    public void Threads_OneTwoFourAndSequential_WriteTheSameBytes()
    {
        string path = SharedData.CorpusPath("htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam");
        var conversion = new ConversionOptions { BatchSize = 1000 };
        var sink = new ParquetSinkOptions { RowGroupSize = 2500 };
        var oneThreadWriter = sink with { UseThreads = false }; // what the CLI uses for --threads 1
        var outputs = new List<(string Case, byte[] Bytes)>();
        foreach ((string name, PipelineOptions pipeline, ParquetSinkOptions writer) in (IEnumerable<(string, PipelineOptions, ParquetSinkOptions)>)[
            ("threads=1", new PipelineOptions { Threads = 1 }, sink),
            ("threads=1 writer on one thread", new PipelineOptions { Threads = 1 }, oneThreadWriter),
            ("threads=2", new PipelineOptions { Threads = 2 }, sink),
            ("threads=4", new PipelineOptions { Threads = 4 }, sink),
            ("sequential", new PipelineOptions { Sequential = true }, oneThreadWriter)])
        {
            string output = Path.Combine(_dir, name + ".parquet");
            ParquetSam.Convert(path, output, conversion, pipeline, writer);
            outputs.Add((name, File.ReadAllBytes(output)));
        }

        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ParquetSam.Lines(Path.Combine(_dir, "threads=1.parquet")), "threads=1");
        Assert.All(outputs, o => Assert.True(o.Bytes.AsSpan().SequenceEqual(outputs[0].Bytes), $"{o.Case} differs from {outputs[0].Case}"));
    }

    [CorpusTheory]
    [InlineData(1, 1)]
    [InlineData(7, 2)]
    [InlineData(100_000, 4)]
    public void BatchSizeAndLimit_RowsStillMatchSamtools(int batchSize, int threads)
    {
        string path = SharedData.CorpusPath("modkit__supplementary_and_secondary_read.bam");
        string output = Path.Combine(_dir, "limit.parquet");
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path);
        int limit = Math.Max(1, expected.Count / 2);

        ParquetSam.Convert(path, output, new ConversionOptions { BatchSize = batchSize }, new PipelineOptions { Threads = threads, Limit = limit });

        ArrowSam.AssertSame(expected.Take(limit).ToList(), ParquetSam.Lines(output), $"batch={batchSize} threads={threads} limit={limit}");
    }

    [CorpusTheory]
    [InlineData(1)]
    [InlineData(2)]
    public void NoRows_AFileWithTheSchemaTheMetadataAndNoRowGroups(int threads)
    {
        string path = SharedData.CorpusPath("modkit__supplementary_and_secondary_read.bam");
        string output = Path.Combine(_dir, "empty.parquet");

        ParquetSam.Convert(path, output, pipeline: new PipelineOptions { Threads = threads, Limit = 0 });

        Assert.Empty(ParquetSam.Lines(output));
        Assert.Empty(ParquetSam.RowGroups(output));
        Assert.Contains("qual", ParquetSam.Columns(output));
        (int code, byte[] header, string error) = Samtools.Run(null, "view", "-H", "--no-PG", path);
        Assert.True(code == 0, error);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(header), ParquetSam.KeyValueMetadata(output)[BamColumns.SamHeaderKey]);
    }

    [CorpusFact]
    public void NoSeqNoQual_ColumnsAbsent()
    {
        string path = SharedData.CorpusPath("samtools__mpileup.1.bam");
        string output = Path.Combine(_dir, "noseq.parquet");

        ParquetSam.Convert(path, output, new ConversionOptions { IncludeSequence = false, IncludeQuality = false });

        Assert.DoesNotContain("seq", ParquetSam.Columns(output));
        Assert.DoesNotContain("qual", ParquetSam.Columns(output));
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path)
            .Select(l => l with { Fields = string.Join('\t', l.Fields.Split('\t').Take(9).Append("(no seq)").Append("(no qual)")) })
            .ToList();
        ArrowSam.AssertSame(expected, ParquetSam.Lines(output), "--no-seq --no-qual");
    }

    [CorpusFact]
    public void TruncatedInput_ThrowsAndLeavesNoFile()
    {
        // The error comes after several batches and row groups were written: the temporary file goes, the target never appears.
        string output = Path.Combine(_dir, "truncated.parquet");

        Assert.ThrowsAny<BamFormatException>(() => ParquetSam.Convert(
            SharedData.CorpusPath("bad/htsjdk__truncated.bam"), output, new ConversionOptions { BatchSize = 50 }, new PipelineOptions { Threads = 2 }, new ParquetSinkOptions { RowGroupSize = 100 }));

        Assert.Empty(Directory.GetFiles(_dir));
    }

    [CorpusFact]
    public async Task SinkStreamFails_MidConversion_ErrorReachesTheCallerAndNoFileIsLeft()
    {
        // A disk that fills up after 64 KiB: Arrow C++ reports it as a ParquetException with the text only; the sink
        // rethrows the stream's own exception, as the Arrow IPC path would.
        string output = Path.Combine(_dir, "full.parquet");
        using BamReader reader = BamReader.Open(SharedData.CorpusPath("hts-specs__level-9.bam"));
        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await using OutputTarget target = OutputTarget.Open(output);
            await using (var sink = new ParquetSink(new FullDiskStream(target.Stream, 64 << 10), new ParquetSinkOptions { RowGroupSize = 500 }))
            {
                await new BamArrowPipeline(new ConversionOptions { BatchSize = 100 }, new PipelineOptions { Threads = 2 }).RunAsync(reader, sink, null, TestContext.Current.CancellationToken);
            }

            await target.CommitAsync(TestContext.Current.CancellationToken);
        });

        Assert.Equal("disk full (injected)", error.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [CorpusFact]
    public void EmptyBam_WritesAValidFileWithNoRows()
    {
        string output = Path.Combine(_dir, "empty.parquet");

        ParquetSam.Convert(SharedData.CorpusPath("htsjdk__empty.bam"), output);

        Assert.Empty(ParquetSam.Lines(output));
        Assert.Contains("qname", ParquetSam.Columns(output));
    }

    /// <summary>Passes writes through until <c>capacity</c> bytes, then throws like a full disk.</summary>
    private sealed class FullDiskStream(Stream inner, long capacity) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > capacity)
            {
                throw new IOException("disk full (injected)");
            }

            inner.Write(buffer);
            _written += buffer.Length;
        }
    }
}
