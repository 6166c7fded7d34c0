using System.Globalization;
using System.Text.RegularExpressions;

namespace Bamflow.Cli;

/// <summary>
/// The layout of a dataset of many BAM files (<c>convert A.bam B.bam … -o DIR/</c>, and the workflow's shards): Hive
/// partitions by sample, <c>DIR/sample=NAME/part-KKKKK.parquet</c> (K the shard, 1 for a whole file), which DuckDB, Spark,
/// polars and pyarrow read as one table with <c>sample</c> as a column.
/// </summary>
internal static partial class Dataset
{
    /// <summary>Whether <paramref name="output"/> names a dataset's directory: it ends with a slash, or is a directory.</summary>
    public static bool IsDirectory(string output) =>
        output != "-" && (output.EndsWith('/') || output.EndsWith(Path.DirectorySeparatorChar) || Directory.Exists(output));

    /// <summary>The sample an input is in a dataset: its file name without <c>.bam</c> (or .cram, .sam, .sam.gz).</summary>
    public static string SampleName(string input)
    {
        if (input == "-")
        {
            throw new UsageException("standard input has no name to be a sample of the dataset: give it with --sample NAME");
        }

        string name = Path.GetFileName(input);
        foreach (string extension in (string[])[".sam.gz", ".bam", ".cram", ".sam"])
        {
            if (name.Length > extension.Length && name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                name = name[..^extension.Length];
                break;
            }
        }

        return CheckName(name, $"the sample name '{name}' (from {input})");
    }

    /// <summary>Refuses a sample name that a Hive directory cannot hold as it is (every engine would read it back alike).</summary>
    /// <remarks>
    /// A letter first: DuckDB infers a partition's type from its values (sample=42 is a number, 2024-01-02 a date), and
    /// reads null (any case) as NULL and epoch, inf and infinity as dates; the workflow refuses the same names.
    /// </remarks>
    public static string CheckName(string name, string what) => SafeName().IsMatch(name) && !((string[])["null", "epoch", "inf", "infinity"]).Contains(name.ToLowerInvariant())
        ? name
        : throw new UsageException($"{what} is not usable as a dataset partition (letters, digits, '.', '_' and '-', starting with a letter; not null, epoch, inf or infinity, which engines read as values): give one with --sample NAME");

    /// <summary>The part file of shard <paramref name="shard"/> (1-based) of <paramref name="sample"/>; creates its directory.</summary>
    public static string PartPath(string directory, string sample, int shard, string extension)
    {
        string partition = Path.Combine(directory, "sample=" + CheckName(sample, $"--sample '{sample}'"));
        Directory.CreateDirectory(partition);
        return Path.Combine(partition, string.Create(CultureInfo.InvariantCulture, $"part-{shard:D5}{extension}"));
    }

    /// <summary>
    /// Refuses to write <paramref name="partPath"/> beside parts of another run of the sample (parts numbered past
    /// <paramref name="shards"/>, or of the other format): a query of the dataset would count their rows too.
    /// </summary>
    public static void RefuseOtherParts(string partPath, int shards)
    {
        string directory = Path.GetDirectoryName(partPath)!;
        string extension = Path.GetExtension(partPath);
        foreach (string file in Directory.EnumerateFiles(directory, "part-*"))
        {
            Match match = PartName().Match(Path.GetFileName(file));
            if (match.Success && (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) > shards || !string.Equals(match.Groups[2].Value, extension, StringComparison.Ordinal)))
            {
                throw new UsageException($"{directory} holds {Path.GetFileName(file)}, a part of another run of this sample ({shards} part{(shards == 1 ? "" : "s")} now): a query of the dataset would read both; remove it, or write to another directory");
            }
        }
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9._-]*$")]
    private static partial Regex SafeName();

    [GeneratedRegex(@"^part-(\d+)(\.[a-z]+)$")]
    private static partial Regex PartName();
}
