using System.Globalization;
using System.Text;

namespace Bamflow.Dataflow;

public sealed partial class FlagStatistics
{
    /// <summary>
    /// The text <c>samtools flagstat</c> prints (16 lines, "N + M category", percentages as "(98.02% : N/A)").
    /// </summary>
    public string ToText()
    {
        FlagCounts p = QcPassed, f = QcFailed;
        var text = new StringBuilder(1024);
        Line(text, p.Total, f.Total, "in total (QC-passed reads + QC-failed reads)");
        Line(text, p.Primary, f.Primary, "primary");
        Line(text, p.Secondary, f.Secondary, "secondary");
        Line(text, p.Supplementary, f.Supplementary, "supplementary");
        Line(text, p.Duplicates, f.Duplicates, "duplicates");
        Line(text, p.PrimaryDuplicates, f.PrimaryDuplicates, "primary duplicates");
        Line(text, p.Mapped, f.Mapped, $"mapped ({Percent(p.Mapped, p.Total)} : {Percent(f.Mapped, f.Total)})");
        Line(text, p.PrimaryMapped, f.PrimaryMapped, $"primary mapped ({Percent(p.PrimaryMapped, p.Primary)} : {Percent(f.PrimaryMapped, f.Primary)})");
        Line(text, p.Paired, f.Paired, "paired in sequencing");
        Line(text, p.Read1, f.Read1, "read1");
        Line(text, p.Read2, f.Read2, "read2");
        Line(text, p.ProperlyPaired, f.ProperlyPaired, $"properly paired ({Percent(p.ProperlyPaired, p.Paired)} : {Percent(f.ProperlyPaired, f.Paired)})");
        Line(text, p.BothMapped, f.BothMapped, "with itself and mate mapped");
        Line(text, p.Singletons, f.Singletons, $"singletons ({Percent(p.Singletons, p.Paired)} : {Percent(f.Singletons, f.Paired)})");
        Line(text, p.MateOnDifferentReference, f.MateOnDifferentReference, "with mate mapped to a different chr");
        Line(text, p.MateOnDifferentReferenceMapq5, f.MateOnDifferentReferenceMapq5, "with mate mapped to a different chr (mapQ>=5)");
        return text.ToString();

        static void Line(StringBuilder text, long passed, long failed, string what) =>
            text.Append(CultureInfo.InvariantCulture, $"{passed} + {failed} {what}\n");
    }

    /// <summary>
    /// The document <c>samtools flagstat -O json</c> prints, byte for byte: its own layout (a space before each
    /// line break after a value or an opening brace), percentages with two decimals or <c>null</c>.
    /// </summary>
    public string ToJson() => ToJson(null);

    /// <summary>
    /// <see cref="ToJson()"/>, and when <paramref name="origin"/> is given one more top-level key after samtools' two:
    /// <c>"bamflow shard": {"input": …, "bytes": …, "shard": K, "shards": N}</c>, what <c>bamflow stats --shard</c>
    /// prints so that <see cref="StatisticsPart.Merge"/> can check the shards it adds up.
    /// </summary>
    public string ToJson(ShardOrigin? origin)
    {
        var json = new StringBuilder(2048);
        AppendJsonBody(json);
        AppendOrigin(json, origin);
        json.Append("}\n");
        return json.ToString();
    }

    /// <summary>
    /// Reads back the document <see cref="ToJson(ShardOrigin?)"/> wrote (an extended one too: its flagstat counters);
    /// <see cref="StatisticsPart.Parse"/> gives the rest. A <see cref="StatisticsPartException"/> names
    /// <paramref name="fileName"/> and the key at fault.
    /// </summary>
    public static FlagStatistics FromJson(string json, string? fileName = null) => StatisticsPart.Parse(json, fileName).Flags;

    /// <summary>The lines <c>samtools flagstat -O tsv</c> prints: "passed&lt;TAB&gt;failed&lt;TAB&gt;category".</summary>
    public string ToTsv()
    {
        FlagCounts p = QcPassed, f = QcFailed;
        var text = new StringBuilder(1024);
        Line(text, p.Total, f.Total, "total (QC-passed reads + QC-failed reads)");
        Line(text, p.Primary, f.Primary, "primary");
        Line(text, p.Secondary, f.Secondary, "secondary");
        Line(text, p.Supplementary, f.Supplementary, "supplementary");
        Line(text, p.Duplicates, f.Duplicates, "duplicates");
        Line(text, p.PrimaryDuplicates, f.PrimaryDuplicates, "primary duplicates");
        Line(text, p.Mapped, f.Mapped, "mapped");
        PercentLine(text, Percent(p.Mapped, p.Total), Percent(f.Mapped, f.Total), "mapped %");
        Line(text, p.PrimaryMapped, f.PrimaryMapped, "primary mapped");
        PercentLine(text, Percent(p.PrimaryMapped, p.Primary), Percent(f.PrimaryMapped, f.Primary), "primary mapped %");
        Line(text, p.Paired, f.Paired, "paired in sequencing");
        Line(text, p.Read1, f.Read1, "read1");
        Line(text, p.Read2, f.Read2, "read2");
        Line(text, p.ProperlyPaired, f.ProperlyPaired, "properly paired");
        PercentLine(text, Percent(p.ProperlyPaired, p.Paired), Percent(f.ProperlyPaired, f.Paired), "properly paired %");
        Line(text, p.BothMapped, f.BothMapped, "with itself and mate mapped");
        Line(text, p.Singletons, f.Singletons, "singletons");
        PercentLine(text, Percent(p.Singletons, p.Paired), Percent(f.Singletons, f.Paired), "singletons %");
        Line(text, p.MateOnDifferentReference, f.MateOnDifferentReference, "with mate mapped to a different chr");
        Line(text, p.MateOnDifferentReferenceMapq5, f.MateOnDifferentReferenceMapq5, "with mate mapped to a different chr (mapQ>=5)");
        return text.ToString();

        static void Line(StringBuilder text, long passed, long failed, string what) =>
            text.Append(CultureInfo.InvariantCulture, $"{passed}\t{failed}\t{what}\n");

        static void PercentLine(StringBuilder text, string passed, string failed, string what) =>
            text.Append(passed).Append('\t').Append(failed).Append('\t').Append(what).Append('\n');
    }

    /// <summary>The JSON document up to (not including) its closing brace: "{", both QC objects, and the line break after the last.</summary>
    internal void AppendJsonBody(StringBuilder json)
    {
        json.Append("{\n");
        AppendJsonObject(json, "QC-passed reads", QcPassed);
        json.Append(",\n");
        AppendJsonObject(json, "QC-failed reads", QcFailed);
        json.Append('\n');
    }

    /// <summary>After a body that ends with a line break: the origin's key, as the last one, when there is one.</summary>
    internal static void AppendOrigin(StringBuilder json, ShardOrigin? origin)
    {
        if (origin is null)
        {
            return;
        }

        json.Length--; // the line break after the last key: one more follows
        json.Append(",\n ");
        origin.AppendJson(json);
        json.Append('\n');
    }

    private static void AppendJsonObject(StringBuilder json, string name, FlagCounts c)
    {
        json.Append(" \"").Append(name).Append("\": { \n");
        Value(json, "total", c.Total);
        Value(json, "primary", c.Primary);
        Value(json, "secondary", c.Secondary);
        Value(json, "supplementary", c.Supplementary);
        Value(json, "duplicates", c.Duplicates);
        Value(json, "primary duplicates", c.PrimaryDuplicates);
        Value(json, "mapped", c.Mapped);
        Raw(json, "mapped %", JsonPercent(c.Mapped, c.Total));
        Value(json, "primary mapped", c.PrimaryMapped);
        Raw(json, "primary mapped %", JsonPercent(c.PrimaryMapped, c.Primary));
        Value(json, "paired in sequencing", c.Paired);
        Value(json, "read1", c.Read1);
        Value(json, "read2", c.Read2);
        Value(json, "properly paired", c.ProperlyPaired);
        Raw(json, "properly paired %", JsonPercent(c.ProperlyPaired, c.Paired));
        Value(json, "with itself and mate mapped", c.BothMapped);
        Value(json, "singletons", c.Singletons);
        Raw(json, "singletons %", JsonPercent(c.Singletons, c.Paired));
        Value(json, "with mate mapped to a different chr", c.MateOnDifferentReference);
        json.Append(CultureInfo.InvariantCulture, $"  \"with mate mapped to a different chr (mapQ >= 5)\": {c.MateOnDifferentReferenceMapq5} \n");
        json.Append(" }");

        static void Value(StringBuilder json, string key, long value) =>
            json.Append(CultureInfo.InvariantCulture, $"  \"{key}\": {value}, \n");

        static void Raw(StringBuilder json, string key, string value) =>
            json.Append("  \"").Append(key).Append("\": ").Append(value).Append(", \n");
    }

    /// <summary>samtools' percentage text: "98.02%", or "N/A" when the denominator is 0.</summary>
    private static string Percent(long count, long total) => total == 0 ? "N/A" : StatisticsFormat.Percentage(count, total) + "%";

    /// <summary>samtools' JSON percentage: "98.02", or "null" when the denominator is 0.</summary>
    private static string JsonPercent(long count, long total) => total == 0 ? "null" : StatisticsFormat.Percentage(count, total);
}
