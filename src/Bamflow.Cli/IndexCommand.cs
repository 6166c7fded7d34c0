using System.CommandLine;
using System.CommandLine.Parsing;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>
/// <c>bamflow index IN.bam [OUT] [-b|-c] [-m INT] [-o OUT] [-@ N]</c>: writes the BAI (default) or CSI index of a
/// coordinate-sorted BAM file, the one <c>samtools index</c> 1.16 writes (BAI byte for byte; CSI the same once
/// inflated), from one parallel pass. Options as samtools takes them: the last of -b, -c and -m decides the format
/// (-m implies CSI); the index goes to OUT, or IN.bam.bai / IN.bam.csi.
/// </summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "The coordinate-sorted BAM file to index (a file: not '-')." };
        var outputArgument = new Argument<string?>("output")
        {
            Description = "Where to write the index (default IN.bam.bai, or IN.bam.csi with -c or -m).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var bai = new Option<bool>("--bai", "-b") { Description = "Write a BAI index (the default)." };
        var csi = new Option<bool>("--csi", "-c") { Description = "Write a CSI index (needed for references of 2^29 bases or more)." };
        var minShift = new Option<int?>("--min-shift", "-m")
        {
            Description = "CSI: the smallest bins span 2^INT bases (default 14); implies -c.",
            HelpName = "INT",
        };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write the index (instead of the OUT argument).", HelpName = "FILE" };
        var threads = Commands.Threads("inflating runs in parallel on N cores");
        var inflater = Commands.Inflater();
        var command = new Command("index", "Write the BAI or CSI index of a coordinate-sorted BAM file, the one 'samtools index' writes (BAI byte for byte; CSI once inflated).")
        {
            input, outputArgument, bai, csi, minShift, output, threads, inflater,
        };
        command.SetAction((parse, cancellationToken) => Cli.RunAsync(async () =>
        {
            int threadCount = Commands.ThreadCount(parse, threads);
            string inputPath = parse.GetValue(input)!;
            if (inputPath == "-")
            {
                throw new UsageException("index: an index needs a BAM file to point into: '-' (standard input) cannot be indexed; write the BAM to a file first");
            }

            string? outputPath = parse.GetValue(output);
            string? outputName = parse.GetValue(outputArgument);
            if (outputPath is not null && outputName is not null)
            {
                throw new UsageException($"index: give the index's name once: -o {outputPath} or {outputName} (to index several files, run 'bamflow index' on each)");
            }

            (BamIndexFormat format, int shift) = Format(parse);
            if (shift is < 1 or > 30)
            {
                throw new UsageException($"-m/--min-shift: the bins' size is 2^INT bases, INT from 1 to 30 (got {shift})");
            }

            string target = outputPath ?? outputName ?? inputPath + (format == BamIndexFormat.Csi ? ".csi" : ".bai");
            if (FileIdentity.AreSame(inputPath, target))
            {
                throw new UsageException($"index: the index '{target}' is the BAM file '{inputPath}': it would be overwritten");
            }

            await Task.Run(async () =>
            {
                using CliLogging logging = CliLogging.Create(quiet: false);
                threadCount = Commands.EffectiveThreads(threadCount, logging.Logger);
                var indexer = new BamIndexer(new PipelineOptions { Threads = threadCount, Inflater = parse.GetValue(inflater) }, logging.Logger);
                await indexer.WriteAsync(inputPath, target, format, shift, cancellationToken);
            }, CancellationToken.None).WaitAsync(cancellationToken);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>As samtools reads its options in order: -b sets BAI, -c CSI, -m INT CSI with that min_shift; the last one counts.</summary>
    private static (BamIndexFormat Format, int MinShift) Format(ParseResult parse)
    {
        var format = BamIndexFormat.Bai;
        int shift = 14;
        foreach (Token token in parse.Tokens)
        {
            if (token.Type != TokenType.Option)
            {
                continue;
            }

            switch (token.Value)
            {
                case "-b" or "--bai":
                    format = BamIndexFormat.Bai;
                    break;
                case "-c" or "--csi":
                    format = BamIndexFormat.Csi;
                    break;
                case "-m" or "--min-shift":
                    format = BamIndexFormat.Csi;
                    break;
            }
        }

        if (parse.GetValue<int?>("--min-shift") is { } given)
        {
            shift = given;
        }

        return (format, shift);
    }
}
