using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>
/// Learns which tags occur, and with which types, from the records it is shown (the first <c>--tag-scan</c>
/// records of a file). Integer widths never conflict (all become Int64); any other disagreement makes the
/// tag <see cref="TagKind.Mixed"/>, so its type is never lost.
/// </summary>
public sealed class TagDiscovery
{
    private readonly Dictionary<ushort, TagColumn> _columns = [];
    private readonly List<ushort> _order = [];

    /// <summary>
    /// The discovery a scan made before (a shard plan's, read back from <see cref="Columns"/> and
    /// <see cref="RecordsScanned"/>): a schema made from it is the one that scan gave.
    /// </summary>
    public static TagDiscovery FromColumns(IEnumerable<TagColumn> columns, long recordsScanned)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(recordsScanned);
        var discovery = new TagDiscovery { RecordsScanned = recordsScanned };
        foreach (TagColumn column in columns)
        {
            if (!discovery._columns.TryAdd(column.TagKey, column))
            {
                throw new ArgumentException($"tag {column.Tag} is listed twice", nameof(columns));
            }

            discovery._order.Add(column.TagKey);
        }

        return discovery;
    }

    /// <summary>Records observed so far.</summary>
    public long RecordsScanned { get; private set; }

    /// <summary>Notes every aux field of <paramref name="record"/>.</summary>
    public void Observe(BamRecord record)
    {
        RecordsScanned++;
        foreach (AuxField field in record.AuxFields)
        {
            ushort key = field.TagKey;
            if (!_columns.TryGetValue(key, out TagColumn? column))
            {
                _columns[key] = TagColumn.For(TagColumn.TagName(field), field.Type, field.ArraySubtype);
                _order.Add(key);
            }
            else if (column.Kind != TagKind.Mixed && !column.Accepts(field.Type, field.ArraySubtype))
            {
                _columns[key] = column with { Kind = TagKind.Mixed, ArraySubtype = 0 };
            }
        }
    }

    /// <summary>The tag columns in order of first appearance.</summary>
    public IReadOnlyList<TagColumn> Columns => _order.Select(key => _columns[key]).ToList();

    /// <summary>Whether the scanned records had <paramref name="tag"/> (two characters).</summary>
    public bool Saw(string tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        return tag.Length == 2 && _columns.ContainsKey((ushort)(tag[0] | (tag[1] << 8)));
    }

    /// <summary>
    /// The columns for an explicit tag list: each tag typed as discovered, or <see cref="TagKind.Mixed"/> (SAM text,
    /// which holds any type) when the scanned records never had it. A tag listed twice gets one column.
    /// </summary>
    public IReadOnlyList<TagColumn> ColumnsFor(IEnumerable<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return tags.Distinct(StringComparer.Ordinal).Select(tag => _columns.TryGetValue((ushort)(tag[0] | (tag[1] << 8)), out TagColumn? column)
            ? column
            : new TagColumn(tag, TagKind.Mixed)).ToList();
    }
}
