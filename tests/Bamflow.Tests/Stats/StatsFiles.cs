using System.Globalization;
using System.Text;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Stats;

/// <summary>The files the statistics are checked on, and helpers to compute them.</summary>
public static class StatsFiles
{
    private const string FixturePrefix = "fixture:";

    /// <summary>Every good corpus file (by manifest name), then the repository fixtures (as "fixture:NAME").</summary>
    public static TheoryData<string> All =>
    [
        .. SharedData.WhenPresent(SharedData.CorpusFiles(bad: false)),
        FixturePrefix + "sample.bam",
        FixturePrefix + "edge-cases.bam",
    ];

    /// <summary>The path of a case from <see cref="All"/> (skipping a corpus case where the corpus is absent).</summary>
    public static string PathOf(string name) =>
        name.StartsWith(FixturePrefix, StringComparison.Ordinal) ? Conversion.Fixture(name[FixturePrefix.Length..]) : SharedData.CorpusPath(name);

    /// <summary>One sequential pass over the file into a fresh statistic.</summary>
    public static (T Statistics, BamHeader Header) Compute<T>(string path)
        where T : RecordStatistics<T>, new()
    {
        using BamReader reader = BamReader.Open(path);
        var statistics = new T();
        while (reader.TryRead(out BamRecord record))
        {
            statistics.Observe(record);
        }

        return (statistics, reader.Header);
    }

    /// <summary>One pass over BAM bytes.</summary>
    public static (T Statistics, BamHeader Header) Compute<T>(byte[] bam)
        where T : RecordStatistics<T>, new()
    {
        using var reader = new BamReader(new MemoryStream(bam), "memory.bam");
        var statistics = new T();
        while (reader.TryRead(out BamRecord record))
        {
            statistics.Observe(record);
        }

        return (statistics, reader.Header);
    }

    /// <summary>samtools' stdout for <paramref name="arguments"/>, as text, asserting it succeeded.</summary>
    public static string Samtools(string context, params string[] arguments)
    {
        (int code, byte[] stdout, string stderr) = Support.Samtools.Run(null, arguments);
        Assert.True(code == 0, $"{context}: samtools {string.Join(' ', arguments)} failed ({code}): {stderr}");
        return Encoding.UTF8.GetString(stdout);
    }

    /// <summary>Fails at the first differing line, naming the case.</summary>
    public static void AssertSameText(string expected, string actual, string context)
    {
        if (expected == actual)
        {
            return;
        }

        string[] e = expected.Split('\n'), a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "(missing)", al = i < a.Length ? a[i] : "(missing)";
            if (el != al)
            {
                Assert.Fail($"{context}: line {i + 1} differs: samtools '{el}' but Bamflow '{al}'");
            }
        }

        Assert.Fail($"{context}: texts differ (line breaks?)");
    }

    /// <summary>Integer text, invariant.</summary>
    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
