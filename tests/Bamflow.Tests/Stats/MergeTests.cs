using Bamflow.Bam;
using Bamflow.Dataflow;

namespace Bamflow.Tests.Stats;

/// <summary>Partials merged with Add give what one pass gives, however the records are split and merged.</summary>
public sealed class MergeTests
{
    [Theory]
    [MemberData(nameof(StatsFiles.All), MemberType = typeof(StatsFiles))]
    public void Add_PartialsOfFile_EqualOnePass(string name)
    {
        string path = StatsFiles.PathOf(name);
        (BamStatistics whole, BamHeader header) = StatsFiles.Compute<BamStatistics>(path);
        string expectedText = whole.ToExtendedText(header.References);
        string expectedJson = whole.ToExtendedJson(header.References);

        foreach (int parts in (int[])[1, 2, 3, 7])
        {
            // Round-robin (every part sees every kind of record) and contiguous runs (as chunks of a stream are).
            foreach (bool contiguous in (bool[])[false, true])
            {
                BamStatistics[] partials = Split(path, parts, contiguous);
                var merged = new BamStatistics();
                foreach (BamStatistics partial in partials)
                {
                    merged.Add(partial);
                }

                var reversed = new BamStatistics();
                for (int i = partials.Length - 1; i >= 0; i--)
                {
                    reversed.Add(partials[i]);
                }

                string context = $"{name} @ parts={parts}, contiguous={contiguous}";
                StatsFiles.AssertSameText(expectedText, merged.ToExtendedText(header.References), context);
                StatsFiles.AssertSameText(expectedJson, merged.ToExtendedJson(header.References), context + " (json)");
                StatsFiles.AssertSameText(expectedText, reversed.ToExtendedText(header.References), context + " (reversed)");
            }
        }
    }

    [Fact]
    public void Add_EmptyPartial_IsIdentity()
    {
        string path = StatsFiles.PathOf("fixture:sample.bam");
        (BamStatistics whole, BamHeader header) = StatsFiles.Compute<BamStatistics>(path);
        string expected = whole.ToExtendedText(header.References);

        whole.Add(new BamStatistics());
        var fromEmpty = new BamStatistics();
        fromEmpty.Add(whole);

        Assert.Equal(expected, whole.ToExtendedText(header.References));
        Assert.Equal(expected, fromEmpty.ToExtendedText(header.References));
    }

    private static BamStatistics[] Split(string path, int parts, bool contiguous)
    {
        using BamReader reader = BamReader.Open(path);
        long total = 0;
        using (BamReader counter = BamReader.Open(path))
        {
            while (counter.TryRead(out _))
            {
                total++;
            }
        }

        BamStatistics[] partials = [.. Enumerable.Range(0, parts).Select(_ => new BamStatistics())];
        long perPart = Math.Max(1, (total + parts - 1) / parts);
        long index = 0;
        while (reader.TryRead(out BamRecord record))
        {
            int part = contiguous ? (int)Math.Min(parts - 1, index / perPart) : (int)(index % parts);
            partials[part].Observe(record);
            index++;
        }

        return partials;
    }
}
