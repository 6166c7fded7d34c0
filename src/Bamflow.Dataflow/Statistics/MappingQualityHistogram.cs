using System.Globalization;
using System.Text;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// Records per MAPQ value (0..255; 255 means "unavailable", SAMv1 §1.4), over every record: secondary,
/// supplementary, unmapped, duplicate and QC-failed ones included.
/// </summary>
public sealed class MappingQualityHistogram : RecordStatistics<MappingQualityHistogram>
{
    private readonly long[] _counts = new long[256];

    /// <summary>Records with MAPQ <paramref name="mappingQuality"/>.</summary>
    public long this[int mappingQuality] => _counts[mappingQuality];

    /// <summary>The 256 counts, indexed by MAPQ.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Records observed.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            foreach (long count in _counts)
            {
                total += count;
            }

            return total;
        }
    }

    /// <inheritdoc />
    public override void Observe(BamRecord record) => _counts[record.MappingQuality]++;

    /// <inheritdoc />
    public override void Add(MappingQualityHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    /// <summary>Adds <paramref name="count"/> records of MAPQ <paramref name="mappingQuality"/> (a statistics document read back).</summary>
    internal void Add(int mappingQuality, long count) => _counts[mappingQuality] += count;

    /// <summary>One line per MAPQ value seen, ascending: <c>MAPQ&lt;TAB&gt;value&lt;TAB&gt;records</c>.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        for (int mapq = 0; mapq < _counts.Length; mapq++)
        {
            if (_counts[mapq] != 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"MAPQ\t{mapq}\t{_counts[mapq]}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>A JSON object from MAPQ value (as a string key, ascending) to records, values seen only: <c>{"0": 40, "60": 1983}</c>.</summary>
    public string ToJson()
    {
        var json = new StringBuilder();
        AppendJson(json);
        return json.Append('\n').ToString();
    }

    internal void AppendJson(StringBuilder json)
    {
        var entries = new List<(long Key, long Count)>();
        for (int mapq = 0; mapq < _counts.Length; mapq++)
        {
            if (_counts[mapq] != 0)
            {
                entries.Add((mapq, _counts[mapq]));
            }
        }

        StatisticsFormat.AppendJsonCounts(json, entries);
    }
}
