using System.Diagnostics;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Tests.Regions;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Shards;

/// <summary>
/// Issue #18's targets on every good corpus file: for N in {1, 2, 3, 7, 16, 64}, planned with the index (the file's own,
/// or a BAI samtools makes for a sorted file that has none) and without it, every shard converts to the whole run's
/// schema (fields, types, metadata) and the shards' rows in order are the whole run's, row for row; the whole run is
/// samtools view's, so the comparison cannot pass vacuously. And each record is in exactly the shard whose range
/// holds its first byte, checked against the record starts of the sequential reader.
/// </summary>
public sealed class ShardCorpusTests
{
    private static readonly int[] s_shardCounts = [1, 2, 3, 7, 16, 64];

    public static TheoryData<string> GoodFiles => [.. SharedData.CorpusFiles(bad: false)];

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void Shards_Concatenated_AreTheWholeRun_RowForRowAndSchemaForSchema(string name)
    {
        string source = SharedData.CorpusPath(name);
        using var temp = new TempFolder();
        (string wholeSchema, List<ArrowSam.Line> whole) = ShardRuns.Whole(source);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(source), whole, $"{name}: whole run vs samtools view");

        var variants = new List<(string Path, bool UseIndex, string Kind)> { (source, false, "no index") };
        if (File.Exists(source + ".bai") || File.Exists(source + ".csi"))
        {
            variants.Add((source, true, "shipped index"));
        }
        else
        {
            string copy = Path.Combine(temp.Path, Path.GetFileName(source));
            File.Copy(source, copy);
            if (Samtools.Run(null, ["index", copy]).ExitCode == 0)
            {
                variants.Add((copy, true, "samtools bai"));
            }
        }

        // The most compressed bytes one record spans (a boundary moves at most that far past its share).
        List<VirtualPosition> recordStarts = ShardRuns.ReadSequentially(source).Starts;
        long longest = recordStarts.Zip(recordStarts.Skip(1).Append(new VirtualPosition(new FileInfo(source).Length, 0)), (a, b) => b.CompressedOffset - a.CompressedOffset).DefaultIfEmpty().Max();
        // A CSI (bins with their own linear offsets, another path through BamIndex.RecordStarts), at two shard counts.
        string csiCopy = Path.Combine(Directory.CreateDirectory(Path.Combine(temp.Path, "csi")).FullName, Path.GetFileName(source));
        File.Copy(source, csiCopy);
        if (Samtools.Run(null, ["index", "-c", csiCopy]).ExitCode == 0)
        {
            variants.Add((csiCopy, true, "samtools csi"));
        }

        foreach ((string path, bool useIndex, string kind) in variants)
        {
            string schema = path == source ? wholeSchema : ShardRuns.Whole(path).Schema;
            int fromIndex = 0;
            foreach (int n in kind == "samtools csi" ? [3, 16] : s_shardCounts)
            {
                string context = $"{name} ({kind}) @ N={n}";
                ShardPlan plan = ShardRuns.Plan(path, n, useIndex);
                fromIndex += plan.FromIndex;
                Assert.Equal(n, plan.Count);
                Assert.Equal(useIndex ? plan.FromIndex + plan.FromSearch : plan.FromSearch, plan.FromIndex + plan.FromSearch);
                Assert.True(n == 1 || plan.FromIndex + plan.FromSearch <= n - 1, $"{context}: {plan.FromIndex} + {plan.FromSearch} boundaries for {n - 1} cuts");
                for (int k = 1; k < n; k++)
                {
                    Assert.True(plan.Starts[k - 1] <= plan.Starts[k], $"{context}: shard {k + 1} starts before shard {k}");
                }

                (List<string> schemas, List<List<ArrowSam.Line>> rows) = ShardRuns.AllShards(path, plan);
                for (int k = 0; k < n; k++)
                {
                    Assert.True(schema == schemas[k], $"{context}: shard {k + 1}'s schema differs from the whole run's:\n{schemas[k]}\nvs\n{schema}");
                }

                ShardRuns.AssertConcatenation(whole, rows, context);
                // Balanced by compressed bytes, to a block and a record (or, from the index, a quarter share) on either side.
                long share = (plan.Bytes - plan.Starts[0].CompressedOffset) / n;
                for (int k = 1; k <= n; k++)
                {
                    Assert.True(plan.CompressedLength(k) <= share + (share / 4) + (2 * 65536) + longest, $"{context}: shard {k} spans {plan.CompressedLength(k):N0} bytes, for a share of {share:N0}");
                }

                // The plan read back from its JSON is the same plan.
                ShardPlan parsed = ShardPlan.Parse(plan.ToJson(), "plan.json");
                Assert.Equal(plan.Starts, parsed.Starts);
                Assert.Equal(plan.TagScan.Columns, parsed.TagScan.Columns);
            }

            if (useIndex && Bamflow.Bam.Index.BamIndex.Open(path, null).RecordStarts().Count >= 1000)
            {
                Assert.True(fromIndex > 0, $"{name} ({kind}): no boundary was taken from the index");
            }
        }
    }

    public static TheoryData<string> OptionSets => ["explicit tags", "no seq, no qual", "no tags", "scan of 5 records", "small batches", "one thread"];

    [Theory]
    [MemberData(nameof(OptionSets))]
    public void Shards_WithConversionOptions_AreTheWholeRunWithThem(string set)
    {
        // The plan's tag scan is made with the options' scan settings; the schema is the options' view of it.
        string path = Conversion.Fixture("sample.bam");
        var options = set switch
        {
            "explicit tags" => new Bamflow.Arrow.ConversionOptions { TagMode = Bamflow.Arrow.TagMode.Explicit, Tags = ["NM", "RG", "ZZ"] },
            "no seq, no qual" => new Bamflow.Arrow.ConversionOptions { IncludeSequence = false, IncludeQuality = false },
            "no tags" => new Bamflow.Arrow.ConversionOptions { TagMode = Bamflow.Arrow.TagMode.None },
            "scan of 5 records" => new Bamflow.Arrow.ConversionOptions { TagScanRecords = 5 },
            "small batches" => new Bamflow.Arrow.ConversionOptions { BatchSize = 7, MaxBatchBytes = 4 << 10 },
            _ => new Bamflow.Arrow.ConversionOptions(),
        };
        int threads = set == "one thread" ? 1 : 3;
        (string schema, List<ArrowSam.Line> whole) = ShardRuns.Whole(path, options, threads);
        foreach (int n in new[] { 2, 5, 11 })
        {
            ShardPlan plan = ShardRuns.Plan(path, n, useIndex: false, conversion: options);
            (List<string> schemas, List<List<ArrowSam.Line>> rows) = ShardRuns.AllShards(path, plan, options, threads);
            Assert.All(schemas, s => Assert.Equal(schema, s));
            ShardRuns.AssertConcatenation(whole, rows, $"sample.bam ({set}) @ N={n}");
            Assert.All(rows, r => Assert.NotEmpty(r));
        }
    }

    public static TheoryData<string> BoundaryFiles => [
        "fixture:sample.bam", "fixture:edge-cases.bam",
        .. SharedData.WhenPresent(["hmftools__pseudo_ig_regions.sorted.bam", "pbbam__long_reads.bam", "hts-specs__level-9.bam", "htslib__bgzf_boundaries3.bam", "BioFmtSpecimens__cigar-64k.bam", "htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam"]),
    ];

    [Theory]
    [MemberData(nameof(BoundaryFiles))]
    public void EveryPlanStart_IsARecordStartOfTheSequentialReader_AndEachRecordIsInTheShardHoldingItsStart(string file)
    {
        string path = file.StartsWith("fixture:", StringComparison.Ordinal) ? Conversion.Fixture(file["fixture:".Length..]) : SharedData.CorpusPath(file);
        (List<VirtualPosition> starts, List<byte[]> records) = ShardRuns.ReadSequentially(path);
        var known = starts.Select(Normal).ToHashSet();
        foreach (bool useIndex in new[] { false, true })
        {
            foreach (int n in new[] { 2, 5, 13, 64 })
            {
                string context = $"{Path.GetFileName(path)} (index: {useIndex}) @ N={n}";
                ShardPlan plan = ShardRuns.Plan(path, n, useIndex);
                Assert.Equal(starts.Count > 0 ? starts[0] : BgzfRange.EndOfFile, plan.Starts[0] == BgzfRange.EndOfFile ? BgzfRange.EndOfFile : plan.Starts[0]);
                foreach (VirtualPosition start in plan.Starts)
                {
                    Assert.True(start == BgzfRange.EndOfFile || known.Contains(Normal(start)), $"{context}: the plan starts a shard at {start}, which is no record start of the file");
                }

                // The shard holding each record by its start, as the plan's ranges say; then what each shard reads.
                var expected = new List<List<byte[]>>();
                for (int k = 1; k <= n; k++)
                {
                    BgzfRange? range = plan.Range(k);
                    expected.Add([.. records.Where((_, i) => range is { } r && Normal(starts[i]) >= Normal(r.Start) && (r.End == BgzfRange.EndOfFile || Normal(starts[i]) < Normal(r.End)))]);
                }

                Assert.Equal(records.Count, expected.Sum(e => e.Count));
                for (int k = 1; k <= n; k++)
                {
                    List<byte[]> actual = ReadShard(path, plan, k);
                    Assert.True(expected[k - 1].Count == actual.Count, $"{context}: shard {k} should hold {expected[k - 1].Count} records (by their starts), it read {actual.Count}");
                    for (int i = 0; i < actual.Count; i++)
                    {
                        Assert.True(expected[k - 1][i].AsSpan().SequenceEqual(actual[i]), $"{context}: shard {k} record {i + 1} differs");
                    }
                }
            }
        }
    }

    private static ulong Normal(VirtualPosition position) => position.Value;

    private static List<byte[]> ReadShard(string path, ShardPlan plan, int shard)
    {
        var seen = new List<byte[]>();
        var engine = new BamArrowPipeline(null, new PipelineOptions { Threads = 2 })
            .Shard(plan, shard)
            .Then(options => new System.Threading.Tasks.Dataflow.TransformBlock<RecordChunk, RecordChunk>(chunk =>
            {
                chunk.ForEach(seen, static (record, list) => list.Add(record.Data.ToArray()));
                return chunk;
            }, new System.Threading.Tasks.Dataflow.ExecutionDataflowBlockOptions { BoundedCapacity = options.BoundedCapacity, TaskScheduler = options.TaskScheduler, CancellationToken = options.CancellationToken, MaxDegreeOfParallelism = 1 }));
        using Bamflow.Bam.BamReader reader = Bamflow.Bam.BamReader.Open(path);
        engine.RunAsync(reader, cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();
        return seen;
    }
}
