using System.CommandLine;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Microsoft.Extensions.Logging;

namespace Bamflow.Cli;

/// <summary>The command tree and the options shared by commands.</summary>
internal static partial class Commands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("bamflow: convert BAM files to Apache Arrow or Parquet, every field as samtools view shows it, on every core.");
        root.Add(ConvertCommand.Create());
        root.Add(SchemaCommand.Create());
        root.Add(StatsCommand.Create());
        root.Add(IndexCommand.Create());
        root.Add(PlanCommand.Create());
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
            + "-@ N here is N cores in all (samtools -@ 3 is about bamflow -@ 4); -@ 0 and -@ 1 both use one core. Default: every core; more than the cores are reduced to the cores, with a notice.",
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

    public static Option<string> MaxRecordSize() => new("--max-record-size")
    {
        Description = "The largest record accepted, in bytes (suffix K, M or G for KiB, MiB, GiB; at most 1G). A record whose block_size "
            + "claims more is an error at once, as is one that claims more than the rest of the file can hold: a corrupt length "
            + "can neither exhaust memory nor stall the run. The default, 64M, is three times the longest real reads (ultra-long "
            + "nanopore reads with base-modification tags).",
        DefaultValueFactory = _ => "64M",
        HelpName = "BYTES",
    };

    /// <summary>The record size limit given with <paramref name="option"/>, in bytes; a <see cref="UsageException"/> if it is not one.</summary>
    public static int ParseMaxRecordSize(ParseResult parse, Option<string> option)
    {
        string text = parse.GetValue(option)!.Trim();
        int shift = text.Length == 0 ? 0 : char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 };
        string digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) || value > (long.MaxValue >> 30))
        {
            throw new UsageException($"--max-record-size takes a number of bytes, optionally with K, M or G (got '{text}')");
        }

        int bytes = (int)Math.Min(value << shift, int.MaxValue);
        try
        {
            BamRecordFraming.ValidateMaxRecordSize(bytes);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new UsageException($"--max-record-size: {e.Message.Split(" (Parameter", 2)[0]}");
        }

        return bytes;
    }

    /// <summary>
    /// The worker threads to use for <paramref name="requested"/>: at most the machine's cores, since threads beyond them
    /// add no speed but would add buffers (every worker and every batch in flight holds memory); a notice says so.
    /// </summary>
    public static int EffectiveThreads(int requested, ILogger logger)
    {
        if (requested > Environment.ProcessorCount)
        {
            LogThreadsClamped(logger, requested, Environment.ProcessorCount);
            return Environment.ProcessorCount;
        }

        return requested;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Threads:N0} threads requested on a machine with {Cores:N0} cores: using {Cores} (threads beyond the cores would add memory, not speed)")]
    private static partial void LogThreadsClamped(ILogger logger, int threads, int cores);

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
