using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Stats;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Shards;

/// <summary>
/// Issue #18's statistics target, in process: for every good corpus file and the fixtures, and N in 1, 2, 3, 7, 16 and
/// 64, each shard of bamflow's own plan (with the file's index where it has one, and by search) counted on its own,
/// written as the JSON part <c>stats --shard K/N --json</c> writes (with its shard origin), read back and merged by
/// <see cref="StatisticsPart"/>: the merge prints exactly what <c>samtools flagstat</c> (the oracle) prints for the
/// whole file, text and JSON. A part left out or given twice is refused.
/// </summary>
public sealed class ShardStatisticsTests
{
    private static readonly int[] Counts = [1, 2, 3, 7, 16, 64];

    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public async Task MergedShardStatistics_AreSamtoolsFlagstatOfTheWholeFile(string name)
    {
        string path = StatsFiles.PathOf(name);
        string expectedText = StatsFiles.Samtools(name, "flagstat", path);
        string expectedJson = StatsFiles.Samtools(name, "flagstat", "-O", "json", path);
        bool indexed = Bamflow.Bam.Index.BamIndex.Locate(path) is not null;
        foreach (bool useIndex in indexed ? new[] { true, false } : [false])
        {
            foreach (int n in Counts)
            {
                string context = $"{name}, {n} shards{(useIndex ? " (index)" : "")}";
                ShardPlan plan = await ShardPlan.CreateAsync(path, n, new ShardPlanOptions { UseIndex = useIndex }, cancellationToken: TestContext.Current.CancellationToken);
                Assert.Equal(n, plan.Count);
                var parts = new List<StatisticsPart>();
                for (int k = 1; k <= n; k++)
                {
                    var statistics = new FlagStatistics();
                    using (BamReader reader = BamReader.Open(path))
                    {
                        await new BamArrowPipeline(new ConversionOptions { TagMode = TagMode.None }, new PipelineOptions { Threads = 1 + (k % 2) })
                            .Shard(plan, k).Observe(statistics).RunAsync(reader, null, TestContext.Current.CancellationToken);
                    }

                    parts.Add(StatisticsPart.Parse(statistics.ToJson(new ShardOrigin(path, plan.Bytes, k, n)), $"{context}: part {k}"));
                }

                StatsFiles.AssertSameText(expectedText, StatisticsPart.Merge(parts, extended: false).ToText(), context);
                StatsFiles.AssertSameText(expectedJson, StatisticsPart.Merge(parts, extended: false).ToJson(), context + " --json");
                if (n > 1)
                {
                    Assert.Throws<StatisticsPartException>(() => StatisticsPart.Merge(parts.Skip(1).ToList(), extended: false));
                    Assert.Throws<StatisticsPartException>(() => StatisticsPart.Merge([.. parts, parts[^1]], extended: false));
                }
            }
        }
    }
}
