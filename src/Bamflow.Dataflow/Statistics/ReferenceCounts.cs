using System.Globalization;
using System.Text;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// Records per reference (refID), mapped (FLAG 0x4 clear) and unmapped apart, as <c>samtools idxstats</c> counts
/// them; refID −1 (no reference, RNAME '*') is counted too. The table grows to the largest refID seen, so a
/// statistic needs no header to count; printing takes the header's references for the names and lengths.
/// </summary>
public sealed class ReferenceCounts : RecordStatistics<ReferenceCounts>
{
    // Slot refID + 1: slot 0 is refID −1.
    private long[] _mapped = new long[16];
    private long[] _unmapped = new long[16];

    /// <summary>Records on reference <paramref name="referenceId"/> (−1: no reference) with FLAG 0x4 clear.</summary>
    public long Mapped(int referenceId) => Slot(_mapped, referenceId);

    /// <summary>Records on reference <paramref name="referenceId"/> (−1: no reference) with FLAG 0x4 set.</summary>
    public long Unmapped(int referenceId) => Slot(_unmapped, referenceId);

    /// <summary>All records on reference <paramref name="referenceId"/> (−1: no reference).</summary>
    public long Records(int referenceId) => Mapped(referenceId) + Unmapped(referenceId);

    /// <inheritdoc />
    public override void Observe(BamRecord record)
    {
        int slot = record.ReferenceId + 1;
        if (slot >= _mapped.Length)
        {
            Grow(slot);
        }

        if ((record.Flag & 0x4) == 0)
        {
            _mapped[slot]++;
        }
        else
        {
            _unmapped[slot]++;
        }
    }

    /// <inheritdoc />
    public override void Add(ReferenceCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._mapped.Length > _mapped.Length)
        {
            Grow(other._mapped.Length - 1);
        }

        for (int slot = 0; slot < other._mapped.Length; slot++)
        {
            _mapped[slot] += other._mapped[slot];
            _unmapped[slot] += other._unmapped[slot];
        }
    }

    /// <summary>Adds counts for reference <paramref name="referenceId"/> (−1: no reference), as a statistics document read back gives them.</summary>
    internal void Add(int referenceId, long mapped, long unmapped)
    {
        int slot = referenceId + 1;
        if (slot >= _mapped.Length)
        {
            Grow(slot);
        }

        _mapped[slot] += mapped;
        _unmapped[slot] += unmapped;
    }

    /// <summary>
    /// One line per reference of <paramref name="references"/> in header order, then one for '*' (refID −1):
    /// <c>REF&lt;TAB&gt;name&lt;TAB&gt;length&lt;TAB&gt;mapped&lt;TAB&gt;unmapped</c> — after <c>REF&lt;TAB&gt;</c>,
    /// the lines <c>samtools idxstats</c> prints ('*' has length 0).
    /// </summary>
    public string ToText(IReadOnlyList<BamReference> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        var text = new StringBuilder();
        for (int id = 0; id < references.Count; id++)
        {
            text.Append(CultureInfo.InvariantCulture, $"REF\t{references[id].Name}\t{IdxstatsLength(references[id])}\t{Mapped(id)}\t{Unmapped(id)}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"REF\t*\t0\t{Mapped(-1)}\t{Unmapped(-1)}\n");
        return text.ToString();
    }

    /// <summary>l_ref as samtools idxstats prints it: htslib holds it as uint32, so a negative l_ref prints as 2^32 − |l_ref|.</summary>
    private static long IdxstatsLength(BamReference reference) => unchecked((uint)reference.Length);

    /// <summary>
    /// A JSON array with one object per reference in header order, then '*':
    /// <c>{"name": "chr1", "length": 1000, "mapped": 10, "unmapped": 0}</c>.
    /// </summary>
    public string ToJson(IReadOnlyList<BamReference> references)
    {
        var json = new StringBuilder();
        AppendJson(json, references);
        return json.Append('\n').ToString();
    }

    internal void AppendJson(StringBuilder json, IReadOnlyList<BamReference> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        json.Append("[\n");
        for (int id = 0; id < references.Count; id++)
        {
            Entry(json, references[id].Name, IdxstatsLength(references[id]), id);
            json.Append(",\n");
        }

        Entry(json, "*", 0, -1);
        json.Append("\n ]");

        void Entry(StringBuilder json, string name, long length, int id)
        {
            json.Append("  {\"name\": ");
            StatisticsFormat.AppendJsonString(json, name);
            json.Append(CultureInfo.InvariantCulture, $", \"length\": {length}, \"mapped\": {Mapped(id)}, \"unmapped\": {Unmapped(id)}}}");
        }
    }

    private static long Slot(long[] counts, int referenceId)
    {
        int slot = referenceId + 1;
        return slot >= 0 && slot < counts.Length ? counts[slot] : 0;
    }

    private void Grow(int slot)
    {
        int size = Math.Max(slot + 1, _mapped.Length * 2);
        Array.Resize(ref _mapped, size);
        Array.Resize(ref _unmapped, size);
    }
}
