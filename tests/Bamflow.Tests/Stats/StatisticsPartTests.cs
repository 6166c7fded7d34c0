using System.Text.Json;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Stats;

/// <summary>
/// Statistics documents read back (<see cref="StatisticsPart.Parse"/>) and added up (<see cref="StatisticsPart.Merge"/>):
/// what the writers print reads back to the same document; every malformed document and every inconsistent set of
/// shards is refused with the part and the key at fault.
/// </summary>
public sealed class StatisticsPartTests
{
    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void Parse_WhatTheWritersPrint_ReadsBackToTheSameDocument(string name)
    {
        (BamStatistics stats, BamHeader header) = StatsFiles.Compute<BamStatistics>(StatsFiles.PathOf(name));
        var origin = new ShardOrigin("dir/in \"x\".bam", 123_456, 2, 3);

        foreach (string json in (string[])[stats.Flags.ToJson(), stats.Flags.ToJson(origin), stats.ToExtendedJson(header.References), stats.ToExtendedJson(header.References, origin)])
        {
            StatisticsPart part = StatisticsPart.Parse(json, name);

            Assert.Equal(json, part.ToJson());
            Assert.Equal(stats.Flags.ToText(), part.Flags.ToText());
            Assert.Equal(stats.Flags.ToJson(), FlagStatistics.FromJson(json, name).ToJson());
        }

        StatisticsPart extended = StatisticsPart.Parse(stats.ToExtendedJson(header.References, origin), name);
        Assert.Equal(stats.ToExtendedText(header.References), extended.ToText());
        Assert.Equal(origin, extended.Origin);
        Assert.Equal(header.References.Select(r => (r.Name, (long)(uint)r.Length)), extended.References!.Select(r => (r.Name, r.Length)));
    }

    [Fact]
    public void ToJson_WithOrigin_IsTheDocumentWithTheOriginAsTheLastKey()
    {
        (FlagStatistics flags, _) = StatsFiles.Compute<FlagStatistics>(Conversion.Fixture("sample.bam"));

        string json = flags.ToJson(new ShardOrigin("in.bam", 870946, 1, 4));

        string plain = flags.ToJson();
        Assert.Equal(plain[..^"\n}\n".Length] + ",\n \"bamflow shard\": {\"input\": \"in.bam\", \"bytes\": 870946, \"shard\": 1, \"shards\": 4}\n}\n", json);
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.Equal(["QC-passed reads", "QC-failed reads", "bamflow shard"], document.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 2)]
    [InlineData(1, 0)]
    public void ShardOrigin_ShardOutOfRange_Throws(int shard, int shards) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardOrigin("in.bam", 1, shard, shards));

    public static TheoryData<string, string, StatisticsPartError, string?> BadDocuments => new()
    {
        { "not JSON", "\"total\": 2023,", StatisticsPartError.NotJson, null },
        { "an array", "[]", StatisticsPartError.NotJson, null },
        { "a counter missing", "REMOVE:  \"read2\": 1000, \n", StatisticsPartError.MissingKey, "QC-passed reads/read2" },
        { "a QC object missing", "{\"QC-passed reads\": {}}", StatisticsPartError.MissingKey, "QC-passed reads/total" },
        { "negative", "\"read1\": 1000|\"read1\": -1", StatisticsPartError.BadValue, "QC-passed reads/read1" },
        { "a fraction", "\"read1\": 1000|\"read1\": 1000.5", StatisticsPartError.BadValue, "QC-passed reads/read1" },
        { "an exponent", "\"read1\": 1000|\"read1\": 1e3", StatisticsPartError.BadValue, "QC-passed reads/read1" },
        { "a string", "\"read1\": 1000|\"read1\": \"1000\"", StatisticsPartError.BadValue, "QC-passed reads/read1" },
        { "too large", "\"read1\": 1000|\"read1\": 9223372036854775808", StatisticsPartError.BadValue, "QC-passed reads/read1" },
        { "a percentage as text", "\"mapped %\": 98.02|\"mapped %\": \"98.02\"", StatisticsPartError.BadValue, "QC-passed reads/mapped %" },
        { "an unknown counter", "\"read1\": 1000|\"read3\": 1000", StatisticsPartError.UnknownKey, "QC-passed reads/read3" },
        { "a counter twice", "\"read1\": 1000|\"read1\": 1000, \"read1\": 1000", StatisticsPartError.UnknownKey, "QC-passed reads/read1" },
        { "an unknown top-level key", "\"QC-failed reads\"|\"QC-faild reads\"", StatisticsPartError.UnknownKey, "QC-faild reads" },
        { "a shard beyond the shards", "ORIGIN:{\"input\": \"x.bam\", \"bytes\": 5, \"shard\": 5, \"shards\": 4}", StatisticsPartError.BadValue, "bamflow shard/shard" },
        { "no shard count", "ORIGIN:{\"input\": \"x.bam\", \"bytes\": 5, \"shard\": 1}", StatisticsPartError.MissingKey, "bamflow shard/shards" },
        { "an origin key unknown", "ORIGIN:{\"input\": \"x.bam\", \"bytes\": 5, \"shard\": 1, \"shards\": 1, \"of\": 2}", StatisticsPartError.UnknownKey, "bamflow shard/of" },
        { "half extended", "EXTENDED:\"MAPQ\": {}", StatisticsPartError.MissingKey, "read length" },
        { "a MAPQ above 255", "EXTENDED:\"MAPQ\": {\"256\": 1}, \"read length\": {}, \"references\": [{\"name\": \"*\", \"length\": 0, \"mapped\": 0, \"unmapped\": 0}]", StatisticsPartError.BadValue, "MAPQ/256" },
        { "a MAPQ with a leading zero", "EXTENDED:\"MAPQ\": {\"060\": 1}, \"read length\": {}, \"references\": [{\"name\": \"*\", \"length\": 0, \"mapped\": 0, \"unmapped\": 0}]", StatisticsPartError.BadValue, "MAPQ/060" },
        { "no '*' reference", "EXTENDED:\"MAPQ\": {}, \"read length\": {}, \"references\": [{\"name\": \"chr1\", \"length\": 10, \"mapped\": 0, \"unmapped\": 0}]", StatisticsPartError.BadValue, "references[0]" },
        { "a reference without counts", "EXTENDED:\"MAPQ\": {}, \"read length\": {}, \"references\": [{\"name\": \"chr1\", \"length\": 10}, {\"name\": \"*\", \"length\": 0, \"mapped\": 0, \"unmapped\": 0}]", StatisticsPartError.MissingKey, "references[0]/mapped" },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void Parse_BadDocument_ThrowsNamingTheFileAndTheKey(string what, string edit, StatisticsPartError kind, string? key)
    {
        string good = SampleJson();
        string json = edit switch
        {
            _ when edit.StartsWith("REMOVE:", StringComparison.Ordinal) => Replace(good, edit["REMOVE:".Length..], ""),
            _ when edit.StartsWith("ORIGIN:", StringComparison.Ordinal) => good[..^"\n}\n".Length] + ",\n \"bamflow shard\": " + edit["ORIGIN:".Length..] + "\n}\n",
            _ when edit.StartsWith("EXTENDED:", StringComparison.Ordinal) => good[..^"\n}\n".Length] + ",\n " + edit["EXTENDED:".Length..] + "\n}\n",
            _ when edit.Contains('|', StringComparison.Ordinal) => Replace(good, edit.Split('|')[0], edit.Split('|')[1]),
            _ => edit,
        };

        var e = Assert.Throws<StatisticsPartException>(() => StatisticsPart.Parse(json, "part.json"));

        Assert.True(e.Kind == kind, $"{what}: {e.Kind}, not {kind}: {e.Message}");
        Assert.True(e.Key == key, $"{what}: key {e.Key}, not {key}: {e.Message}");
        Assert.Equal("part.json", e.FileName);
        Assert.Equal(["part.json"], e.Files);
        Assert.StartsWith("part.json: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_Shards_CheckedAsOneCompleteSet()
    {
        FlagStatistics flags = FlagStatistics.FromJson(SampleJson());
        StatisticsPart Shard(string file, int shard, int shards = 3, string input = "data/x.bam", long bytes = 5000) =>
            StatisticsPart.Parse(flags.ToJson(new ShardOrigin(input, bytes, shard, shards)), file);
        StatisticsPart Whole(string file) => StatisticsPart.Parse(flags.ToJson(), file);

        StatisticsPart merged = StatisticsPart.Merge([Shard("c", 3), Shard("a", 1), Shard("b", 2, input: "/other/folder/x.bam")], extended: false);
        Assert.Equal(3 * flags.QcPassed.Total, merged.Flags.QcPassed.Total);
        Assert.Null(merged.Origin);
        Assert.Equal(flags.ToJson().Replace("2023", "6069", StringComparison.Ordinal).Split('\n')[2], merged.ToJson().Split('\n')[2]);

        AssertRefused(StatisticsPartError.MissingShard, ["a", "c"], [Shard("a", 1), Shard("c", 3)]);
        AssertRefused(StatisticsPartError.DuplicateShard, ["b", "b2"], [Shard("a", 1), Shard("b", 2), Shard("b2", 2), Shard("c", 3)]);
        AssertRefused(StatisticsPartError.DifferentInputs, ["a", "y"], [Shard("a", 1), Shard("y", 2, input: "y.bam"), Shard("c", 3)]);
        AssertRefused(StatisticsPartError.DifferentInputs, ["a", "b"], [Shard("a", 1), Shard("b", 2, bytes: 5001), Shard("c", 3)]);
        AssertRefused(StatisticsPartError.DifferentShardCounts, ["a", "b"], [Shard("a", 1), Shard("b", 2, shards: 4), Shard("c", 3)]);
        AssertRefused(StatisticsPartError.MixedOrigins, ["a", "c", "w"], [Shard("a", 1), Whole("w"), Shard("c", 3)]);
        AssertRefused(StatisticsPartError.NotExtended, ["w"], [Whole("w")], extended: true);

        // Without origins, parts simply add up, as many as given.
        Assert.Equal(2 * flags.QcPassed.Mapped, StatisticsPart.Merge([Whole("w1"), Whole("w2")], extended: false).Flags.QcPassed.Mapped);
    }

    [Fact]
    public void Merge_MissingShards_NamesEveryOne()
    {
        FlagStatistics flags = FlagStatistics.FromJson(SampleJson());

        var e = Assert.Throws<StatisticsPartException>(() => StatisticsPart.Merge([StatisticsPart.Parse(flags.ToJson(new ShardOrigin("x.bam", 1, 3, 4)), "p3")], extended: false));

        Assert.Equal(StatisticsPartError.MissingShard, e.Kind);
        Assert.Contains("shards 1, 2, 4 of 4 are missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MergeExtended_DifferentReferences_Refused()
    {
        (BamStatistics sample, BamHeader sampleHeader) = StatsFiles.Compute<BamStatistics>(Conversion.Fixture("sample.bam"));
        (BamStatistics edge, BamHeader edgeHeader) = StatsFiles.Compute<BamStatistics>(Conversion.Fixture("edge-cases.bam"));
        StatisticsPart a = StatisticsPart.Parse(sample.ToExtendedJson(sampleHeader.References), "a");
        StatisticsPart b = StatisticsPart.Parse(edge.ToExtendedJson(edgeHeader.References), "b");

        AssertRefused(StatisticsPartError.DifferentReferences, ["a", "b"], [a, b], extended: true);
        Assert.Equal(sample.Flags.QcPassed.Total + edge.Flags.QcPassed.Total, StatisticsPart.Merge([a, b], extended: false).Flags.QcPassed.Total);
    }

    private static void AssertRefused(StatisticsPartError kind, string[] files, StatisticsPart[] parts, bool extended = false)
    {
        var e = Assert.Throws<StatisticsPartException>(() => StatisticsPart.Merge(parts, extended));
        Assert.True(e.Kind == kind, $"{e.Kind}, not {kind}: {e.Message}");
        Assert.Equal(files, e.Files.Order(StringComparer.Ordinal));
    }

    private static string SampleJson() => StatsFiles.Compute<FlagStatistics>(Conversion.Fixture("sample.bam")).Statistics.ToJson();

    private static string Replace(string text, string old, string replacement)
    {
        Assert.Contains(old, text, StringComparison.Ordinal);
        int at = text.IndexOf(old, StringComparison.Ordinal);
        return text[..at] + replacement + text[(at + old.Length)..];
    }
}
