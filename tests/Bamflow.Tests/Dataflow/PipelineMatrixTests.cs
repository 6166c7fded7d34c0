using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>Every thread count and batch size gives the same rows, in file order, as samtools.</summary>
public sealed class PipelineMatrixTests
{
    private static readonly string[] s_smallFiles =
        ["samtools__11_target.bam", "samtools__test_input_1_d.bam", "BioFmtSpecimens__cigar-64k.bam", "samtools__mpileup.1.bam", "pbbam__group_test3.bam"];

    public static TheoryData<string, int, int> Matrix()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string file in s_smallFiles)
        {
            foreach (int threads in (int[])[1, 2, 4, 8])
            {
                foreach (int batch in (int[])[1, 7, ConversionOptions.DefaultBatchSize])
                {
                    data.Add(file, threads, batch);
                }
            }
        }

        // A larger file, with batch sizes that give thousands of batches.
        foreach (int threads in (int[])[1, 2, 8])
        {
            data.Add("hts-specs__level-9.bam", threads, 7);
            data.Add("hts-specs__level-9.bam", threads, 1000);
        }

        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(Matrix))]
    public void Convert_ThreadsAndBatchSizes_SameRowsAsSamtools(string file, int threads, int batchSize)
    {
        string path = SharedData.CorpusPath(file);
        var pipeline = new PipelineOptions { Threads = threads, BoundedCapacity = threads };

        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, new ConversionOptions { BatchSize = batchSize }, pipeline);
        List<RecordBatch> batches = ArrowSam.ReadAll(ipc, stream: false);

        string context = $"{file} @ threads={threads}, batch={batchSize}";
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ArrowSam.Lines(batches).ToList(), context);
        Assert.All(batches, b => Assert.InRange(b.Length, 1, batchSize));
        Assert.Equal(batches.Count, summary.Batches);
        Assert.Equal(batches.Sum(b => (long)b.Length), summary.Records);
    }

    [CorpusTheory]
    [InlineData("hts-specs__level-9.bam", 1, ConversionOptions.DefaultMaxBatchBytes)]
    [InlineData("hts-specs__level-9.bam", 7, ConversionOptions.DefaultMaxBatchBytes)]
    [InlineData("hts-specs__level-9.bam", 100_000, ConversionOptions.DefaultMaxBatchBytes)]
    [InlineData("hts-specs__level-9.bam", 100, 64 << 10)]
    [InlineData("picard__test.bam", 100_000, 64 << 10)]
    [InlineData("pbbam__long_reads.bam", 2, 128 << 10)]
    public void Convert_SequentialPath_ByteIdenticalToParallel(string name, int batchSize, int maxBytes)
    {
        // The same batches on both paths, also where segments cut the file and records run across blocks.
        string path = SharedData.CorpusPath(name);
        var conversion = new ConversionOptions { BatchSize = batchSize, MaxBatchBytes = maxBytes };

        (byte[] sequential, _) = Conversion.ToIpc(path, conversion, new PipelineOptions { Sequential = true });
        (byte[] parallel, _) = Conversion.ToIpc(path, conversion, new PipelineOptions { Threads = 4 });

        Assert.Equal(sequential, parallel);
    }

    [CorpusTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(12_345)]
    [InlineData(1_000_000)]
    public void Convert_Limit_GivesTheFirstNRecords(long limit)
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        List<ArrowSam.Line> all = ArrowSam.SamtoolsLines(path);

        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, new ConversionOptions { BatchSize = 1000 }, new PipelineOptions { Limit = limit });

        List<ArrowSam.Line> expected = all.Take((int)Math.Min(limit, all.Count)).ToList();
        ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false)).ToList(), $"--limit {limit}");
        Assert.Equal(expected.Count, summary.Records);
    }

    [CorpusTheory]
    [InlineData("samtools__ce_large_seq.bam", 64 << 10, 100_000)]
    [InlineData("hts-specs__level-9.bam", 64 << 10, 100_000)]
    [InlineData("hts-specs__level-9.bam", 16 << 10, 7)]
    [InlineData("picard__test.bam", 100 << 10, 1_000)]
    [InlineData("pbbam__long_reads.bam", 64 << 10, 100_000)]
    [InlineData("pbbam__long_reads.bam", 1 << 20, 3)]
    public void Convert_ByteBudget_BatchesEndWhereTheBlocksSay(string name, int maxBytes, int batchSize)
    {
        // The batches hold the records that end in one segment of BGZF blocks (cut by the record limit), as a second
        // implementation computes them from the file; picard's and pbbam's records run across blocks (carries), the
        // long reads across whole segments.
        string path = SharedData.CorpusPath(name);

        (byte[] ipc, _) = Conversion.ToIpc(path, new ConversionOptions { MaxBatchBytes = maxBytes, BatchSize = batchSize }, new PipelineOptions { Threads = 2 });

        List<RecordBatch> batches = ArrowSam.ReadAll(ipc, stream: false);
        Assert.Equal(ChunkRuleOracle.BatchLengths(path, maxBytes, batchSize), batches.Select(b => b.Length).ToList());
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ArrowSam.Lines(batches).ToList(), $"{name}, budget {maxBytes}, batches of {batchSize}");
    }

    [CorpusFact]
    public void Convert_StreamFormat_SameRows()
    {
        string path = SharedData.CorpusPath("samtools__mpileup.1.bam");

        (byte[] ipc, _) = Conversion.ToIpc(path, format: ArrowIpcFormat.Stream);

        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: true)).ToList(), "IPC stream");
    }

    [CorpusFact]
    public void Convert_EmptyFile_WritesSchemaAndNoRows()
    {
        string path = SharedData.CorpusPath("picard__sample_mc.bam");

        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path);

        using var reader = new Apache.Arrow.Ipc.ArrowFileReader(new MemoryStream(ipc));
        Assert.Equal(0, summary.Records);
        Assert.Null(reader.ReadNextRecordBatch());
        Assert.Equal(3366, reader.Schema.Metadata[BamColumns.SamHeaderKey].Split('\n').Count(l => l.StartsWith("@SQ", StringComparison.Ordinal)));
    }
}
