using System.CommandLine;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>
/// samtools view's region selection as arguments and options: <c>IN.bam [REGION …]</c>, <c>-M</c> (the multi-region
/// iterator), <c>-L FILE.bed</c> and <c>-X INDEX</c>; shared by <c>convert</c> and <c>stats</c>.
/// </summary>
internal sealed class RegionOptions
{
    /// <summary>The input form htslib reads as "this file, with the index at PATH".</summary>
    private const string IndexSeparator = "##idx##";

    private readonly Argument<string[]> _regions = new("region")
    {
        Description = "Regions to read, as samtools view takes them: chr, chr:beg-end (1-based, inclusive), chr:beg, chr:-end, chr:beg-, "
            + "{name:with:colons}:beg-end, '*' (reads with no reference). Needs a BAI or CSI index (make one with 'bamflow index IN.bam'). "
            + "Without -M, each region in the order given (a read in two regions comes twice, as samtools writes it).",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<bool> _multiRegion = new("--use-index", "-M")
    {
        Description = "Merge the regions (samtools view -M, the multi-region iterator): each read once, in file order.",
    };

    private readonly Option<string> _bed = new("--target-file", "--targets-file", "-L")
    {
        Description = "Keep only reads overlapping a region of this BED file (samtools view -L; gzip allowed). With an index, only "
            + "the BED's regions are read.",
        HelpName = "FILE",
    };

    private readonly Option<string> _index = new("--index", "-X")
    {
        Description = "The index to use (BAI or CSI), instead of looking for IN.bam.bai, IN.bai, IN.bam.csi or IN.csi as samtools does. "
            + "(samtools' 'IN.bam##idx##INDEX' form works too; its '-X IN.bam INDEX' form, with the index as a second argument, does not.)",
        HelpName = "INDEX",
    };

    /// <summary>The leading arguments taken as more inputs (<see cref="TakeInputs"/>): not regions.</summary>
    private int _inputsTaken;

    /// <summary>
    /// For a command that reads several files (convert into a dataset): the leading arguments after the input that name
    /// existing files are more inputs, and the rest are regions.
    /// </summary>
    public IReadOnlyList<string> TakeInputs(ParseResult parse)
    {
        string[] arguments = parse.GetValue(_regions) ?? [];
        _inputsTaken = arguments.TakeWhile(File.Exists).Count();
        return arguments[.._inputsTaken];
    }

    private string[] Regions(ParseResult parse) => (parse.GetValue(_regions) ?? [])[_inputsTaken..];

    /// <summary>Adds the argument (after the command's input argument) and the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(_regions);
        command.Add(_multiRegion);
        command.Add(_bed);
        command.Add(_index);
    }

    /// <summary>Whether regions or a BED file select records (the run reads part of the file, or filters it).</summary>
    public bool Selects(ParseResult parse) => Regions(parse) is { Length: > 0 } || parse.GetValue(_bed) is not null;

    /// <summary>The first of these options given on the command line (-M, -L, -X), for a mode they do not apply to; null when none is.</summary>
    public string? GivenOption(ParseResult parse) =>
        new Option[] { _multiRegion, _bed, _index }.Select(o => parse.GetResult(o)).FirstOrDefault(r => r is { Implicit: false }) is { } given
            ? given.IdentifierToken?.Value ?? given.Option.Name
            : null;

    /// <summary>
    /// The input file (htslib's <c>IN##idx##INDEX</c> form split off) and the index given with it or with <c>-X</c>.
    /// </summary>
    public (string Input, string? Index) ResolveInput(ParseResult parse, string input)
    {
        string? index = parse.GetValue(_index);
        int separator = input.IndexOf(IndexSeparator, StringComparison.Ordinal);
        if (separator > 0 && !File.Exists(input))
        {
            if (index is not null)
            {
                throw new UsageException($"the index is given twice: in '{input}' and with -X '{index}'");
            }

            index = input[(separator + IndexSeparator.Length)..];
            input = input[..separator];
        }

        if (index is not null && index.Length == 0)
        {
            throw new UsageException("-X/--index is an empty name; give the index file");
        }

        return (input, index);
    }

    /// <summary>
    /// Adds the region query to <paramref name="engine"/> when regions or a BED file are given. A region needs an index
    /// (exit 1 naming the command that makes one, as samtools refuses); a BED file alone reads the whole file and
    /// filters when there is none. A malformed region or an unknown reference is a usage error (exit 2) naming it.
    /// </summary>
    public BamArrowPipeline Apply(ParseResult parse, BamArrowPipeline engine, BamReader reader, string input, string? index)
    {
        string[] regions = Regions(parse);
        string? bedPath = parse.GetValue(_bed);
        bool multiRegion = parse.GetValue(_multiRegion);
        if (regions.Length == 0 && bedPath is null)
        {
            return engine; // as samtools view -M or -X without a region: the whole file
        }

        // A second file where a region goes: the user meant two inputs (bamflow takes one per run).
        foreach (string region in regions)
        {
            if (File.Exists(region) && !reader.Header.References.Any(reference => reference.Name == region))
            {
                throw new UsageException($"'{region}' is a file, not a region: bamflow reads one input per run (convert writes several into a dataset: -o DIR/); the arguments after it are regions (as in samtools view IN.bam REGION…)");
            }
        }

        if (input == "-" && (regions.Length > 0 || index is not null))
        {
            throw new BamFormatException("a region query reads through an index, which needs a file, not standard input (samtools refuses it too)", "standard input");
        }

        BedFile? bed = null;
        if (bedPath is not null)
        {
            try
            {
                bed = BedFile.Read(bedPath);
            }
            catch (BedFormatException e)
            {
                throw new BamFormatException($"-L {e.Message}", innerException: e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"-L: cannot read the BED file '{bedPath}': {e.Message}", e);
            }
        }

        // With regions, the index is needed (BamIndex.Open says how to make one when it is missing). With -L alone, it is
        // used when there is one.
        Func<BamIndex>? openIndex = regions.Length > 0 || index is not null || (input != "-" && BamIndex.Locate(input) is not null)
            ? () => BamIndex.Open(input, index)
            : null;
        RegionQuery query;
        try
        {
            query = RegionQuery.Create(reader.Header, regions, multiRegion, bed, openIndex);
        }
        catch (RegionFormatException e)
        {
            throw new UsageException(e.Message);
        }

        return engine.Regions(query);
    }
}
