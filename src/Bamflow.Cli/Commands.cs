using System.CommandLine;
using Bamflow.Arrow;
using Bamflow.Bgzf;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>The command tree and the options shared by commands.</summary>
internal static class Commands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("bamflow: convert BAM files to Apache Arrow or Parquet, every field as samtools view shows it, on every core.");
        root.Add(ConvertCommand.Create());
        root.Add(SchemaCommand.Create());
        root.Add(StatsCommand.Create());
        return root;
    }

    public static Argument<string> Input() => new("input")
    {
        Description = "The BAM file to read ('-' reads standard input).",
    };

    public static Option<string> Tags() => new("--tags")
    {
        Description = "Tags that get typed columns, comma-separated (e.g. NM,MD,RG); tags not listed are DROPPED. "
            + "'none' writes no tag columns at all. Default: discover the tags of the first --tag-scan records; "
            + "tags seen only later go to tags_other, so nothing is dropped.",
        HelpName = "LIST|none",
    };

    public static Option<int> TagScan() => new("--tag-scan")
    {
        Description = "How many leading records tag discovery looks at.",
        DefaultValueFactory = _ => ConversionOptions.DefaultTagScanRecords,
        HelpName = "N",
    };

    public static Option<bool> NoSeq() => new("--no-seq") { Description = "Leave out the seq column." };

    public static Option<bool> NoQual() => new("--no-qual") { Description = "Leave out the qual column." };

    public static Option<BgzfInflaterKind> Inflater() => new("--inflater")
    {
        Description = "Inflate backend: auto (libdeflate when installed), libdeflate, managed (System.IO.Compression).",
        DefaultValueFactory = _ => BgzfInflaterKind.Auto,
    };

    public static Option<string> Validation() => new("--validation")
    {
        Description = "strict (default): the first invalid record stops the run. lenient: an invalid record is skipped with a warning "
            + "and counted (like htsjdk's LENIENT); damage that loses the record framing (a corrupt or truncated block) still stops it.",
        DefaultValueFactory = _ => "strict",
        HelpName = "strict|lenient",
    };

    /// <summary>-@/--threads: the cores a command uses, counting every one (samtools' -@ counts threads besides its main one).</summary>
    public static Option<int> Threads(string work) => new("--threads", "-@")
    {
        Description = $"Cores to use, every one counted: {work}. Unlike samtools, whose -@ N adds N threads to its main one, "
            + "-@ N here is N cores in all (samtools -@ 3 is about bamflow -@ 4); -@ 0 and -@ 1 both use one core. Default: every core.",
        DefaultValueFactory = _ => Environment.ProcessorCount,
        HelpName = "N",
    };

    /// <summary>The cores <see cref="Threads"/> asks for: 0 (samtools' "no extra threads") is one.</summary>
    public static int ThreadCount(ParseResult parse, Option<int> threads)
    {
        int count = parse.GetValue(threads);
        return count switch
        {
            < 0 => throw new UsageException($"-@/--threads: the number of cores must be 0 or more (got {count})"),
            0 => 1,
            _ => count,
        };
    }

    /// <summary>Builds conversion options from the shared options; throws <see cref="ArgumentException"/> on bad values.</summary>
    public static ConversionOptions BuildConversionOptions(ParseResult parse, Option<string> tags, Option<int> tagScan, Option<bool> noSeq, Option<bool> noQual, int batchSize = ConversionOptions.DefaultBatchSize)
    {
        string? tagList = parse.GetValue(tags);
        TagMode mode = tagList is null ? TagMode.Discover : tagList.Equals("none", StringComparison.OrdinalIgnoreCase) ? TagMode.None : TagMode.Explicit;
        var options = new ConversionOptions
        {
            IncludeSequence = !parse.GetValue(noSeq),
            IncludeQuality = !parse.GetValue(noQual),
            TagMode = mode,
            Tags = mode == TagMode.Explicit ? tagList!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
            TagScanRecords = parse.GetValue(tagScan),
            BatchSize = batchSize,
        };
        if (mode == TagMode.Explicit && options.Tags.Count == 0)
        {
            throw new ArgumentException($"--tags '{tagList}' lists no tag; give tags such as NM,MD, or 'none' for no tag columns");
        }

        options.Validate();
        return options;
    }

    /// <summary>The input's size in bytes, when it is a file.</summary>
    public static long? InputSize(string input) =>
        input != "-" && File.Exists(input) && OutputTarget.IsRegularFile(input) ? new FileInfo(input).Length : null;
}
