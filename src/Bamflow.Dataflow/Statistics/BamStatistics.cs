using System.Text;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// All the record statistics together, as one mergeable partial: flagstat's counts, the MAPQ histogram, the
/// read-length distribution and the records per reference. What <c>bamflow stats</c> computes and prints.
/// </summary>
public sealed class BamStatistics : RecordStatistics<BamStatistics>
{
    /// <summary><c>samtools flagstat</c>'s counts.</summary>
    public FlagStatistics Flags { get; } = new();

    /// <summary>Records per MAPQ.</summary>
    public MappingQualityHistogram MappingQualities { get; } = new();

    /// <summary>Records per SEQ length.</summary>
    public ReadLengthDistribution ReadLengths { get; } = new();

    /// <summary>Records per reference, mapped and unmapped.</summary>
    public ReferenceCounts References { get; } = new();

    /// <inheritdoc />
    public override void Observe(BamRecord record)
    {
        Flags.Observe(record);
        MappingQualities.Observe(record);
        ReadLengths.Observe(record);
        References.Observe(record);
    }

    /// <inheritdoc />
    public override void Add(BamStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Flags.Add(other.Flags);
        MappingQualities.Add(other.MappingQualities);
        ReadLengths.Add(other.ReadLengths);
        References.Add(other.References);
    }

    /// <summary>
    /// <c>samtools flagstat</c>'s text, then three sections, each introduced by a '#' line naming its columns:
    /// <c>MAPQ&lt;TAB&gt;mapq&lt;TAB&gt;records</c>, <c>RL&lt;TAB&gt;length&lt;TAB&gt;records</c> (values seen only,
    /// ascending) and <c>REF&lt;TAB&gt;name&lt;TAB&gt;length&lt;TAB&gt;mapped&lt;TAB&gt;unmapped</c> (every reference
    /// of <paramref name="references"/>, then '*'). <c>grep ^MAPQ</c> and friends pick a section out.
    /// </summary>
    public string ToExtendedText(IReadOnlyList<BamReference> references)
    {
        var text = new StringBuilder(Flags.ToText());
        text.Append("# Mapping quality, all records: MAPQ\tmapq\trecords\n");
        text.Append(MappingQualities.ToText());
        text.Append("# Read length (SEQ length, 0 when SEQ is '*'), all records: RL\tlength\trecords\n");
        text.Append(ReadLengths.ToText());
        text.Append("# Records per reference, as samtools idxstats ('*': no reference): REF\tname\tlength\tmapped\tunmapped\n");
        text.Append(References.ToText(references));
        return text.ToString();
    }

    /// <summary>
    /// <c>samtools flagstat -O json</c>'s document with three more keys after its two: <c>"MAPQ"</c> and
    /// <c>"read length"</c> (objects from value to records, values seen only, ascending) and <c>"references"</c>
    /// (an array of <c>{"name", "length", "mapped", "unmapped"}</c> in header order, then '*').
    /// </summary>
    public string ToExtendedJson(IReadOnlyList<BamReference> references) => ToExtendedJson(references, null);

    /// <summary>
    /// <see cref="ToExtendedJson(IReadOnlyList{BamReference})"/>, and when <paramref name="origin"/> is given one more
    /// top-level key after <c>"references"</c>: <c>"bamflow shard": {…}</c> (see <see cref="FlagStatistics.ToJson(ShardOrigin?)"/>).
    /// </summary>
    public string ToExtendedJson(IReadOnlyList<BamReference> references, ShardOrigin? origin)
    {
        var json = new StringBuilder(4096);
        Flags.AppendJsonBody(json);
        json.Length--; // the line break after "QC-failed reads"' object: more keys follow
        json.Append(",\n \"MAPQ\": ");
        MappingQualities.AppendJson(json);
        json.Append(",\n \"read length\": ");
        ReadLengths.AppendJson(json);
        json.Append(",\n \"references\": ");
        References.AppendJson(json, references);
        json.Append('\n');
        FlagStatistics.AppendOrigin(json, origin);
        json.Append("}\n");
        return json.ToString();
    }
}
