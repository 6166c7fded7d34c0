using System.Globalization;
using System.Text;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// Records per read length, the length of SEQ as stored (l_seq; 0 when SEQ is '*', as secondary records often
/// have), over every record. Lengths below 65,536 are counted in a table that grows to the longest seen;
/// longer ones in a dictionary, so a few megabase reads cost a few entries.
/// </summary>
public sealed class ReadLengthDistribution : RecordStatistics<ReadLengthDistribution>
{
    private const int DenseLimit = 1 << 16;

    private long[] _dense = new long[512];
    private Dictionary<int, long>? _long;

    /// <summary>Records whose SEQ has <paramref name="length"/> bases.</summary>
    public long this[int length] =>
        length < 0 ? 0 : length < _dense.Length ? _dense[length] : _long is not null && _long.TryGetValue(length, out long count) ? count : 0;

    /// <summary>The lengths seen, ascending, with their record counts.</summary>
    public IReadOnlyList<KeyValuePair<int, long>> Lengths
    {
        get
        {
            var lengths = new List<KeyValuePair<int, long>>();
            for (int length = 0; length < _dense.Length; length++)
            {
                if (_dense[length] != 0)
                {
                    lengths.Add(new(length, _dense[length]));
                }
            }

            if (_long is not null)
            {
                lengths.AddRange(_long.OrderBy(p => p.Key));
            }

            return lengths;
        }
    }

    /// <inheritdoc />
    public override void Observe(BamRecord record) => Count(record.SequenceLength, 1);

    /// <inheritdoc />
    public override void Add(ReadLengthDistribution other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int length = other._dense.Length - 1; length >= 0; length--)
        {
            if (other._dense[length] != 0)
            {
                Count(length, other._dense[length]);
            }
        }

        if (other._long is not null)
        {
            foreach ((int length, long count) in other._long)
            {
                Count(length, count);
            }
        }
    }

    /// <summary>One line per length seen, ascending: <c>RL&lt;TAB&gt;length&lt;TAB&gt;records</c>.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        foreach ((int length, long count) in Lengths)
        {
            text.Append(CultureInfo.InvariantCulture, $"RL\t{length}\t{count}\n");
        }

        return text.ToString();
    }

    /// <summary>A JSON object from length (as a string key, ascending) to records: <c>{"0": 11, "100": 2012}</c>.</summary>
    public string ToJson()
    {
        var json = new StringBuilder();
        AppendJson(json);
        return json.Append('\n').ToString();
    }

    internal void AppendJson(StringBuilder json) =>
        StatisticsFormat.AppendJsonCounts(json, Lengths.Select(p => ((long)p.Key, p.Value)).ToList());

    /// <summary>Adds <paramref name="count"/> records of SEQ length <paramref name="length"/> (also: a statistics document read back).</summary>
    internal void Count(int length, long count)
    {
        if (length < _dense.Length)
        {
            _dense[length] += count;
        }
        else if (length < DenseLimit)
        {
            Array.Resize(ref _dense, Math.Min(DenseLimit, Math.Max(length + 1, _dense.Length * 2)));
            _dense[length] += count;
        }
        else
        {
            _long ??= [];
            _long[length] = _long.GetValueOrDefault(length) + count;
        }
    }
}
