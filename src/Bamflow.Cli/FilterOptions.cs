using System.CommandLine;
using System.Globalization;
using Bamflow.Bam;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>samtools view's record filters as command options (-f, -F, -G, -q, -r) plus whole references (--ref).</summary>
internal sealed class FilterOptions
{
    private static readonly string[] s_flagNames =
        ["PAIRED", "PROPER_PAIR", "UNMAP", "MUNMAP", "REVERSE", "MREVERSE", "READ1", "READ2", "SECONDARY", "QCFAIL", "DUP", "SUPPLEMENTARY"];

    private readonly Option<string> _require = new("--require-flags", "-f")
    {
        Description = "Keep only records with all of these FLAG bits (samtools view -f): a number (decimal, 0x hex, 0 octal) or names like PAIRED,READ1.",
        HelpName = "FLAGS",
    };

    private readonly Option<string> _excludeAny = new("--excl-flags", "-F")
    {
        Description = "Drop records with any of these FLAG bits (samtools view -F).",
        HelpName = "FLAGS",
    };

    private readonly Option<string> _excludeAll = new("--excl-all-flags", "-G")
    {
        Description = "Drop records with all of these FLAG bits (samtools view -G).",
        HelpName = "FLAGS",
    };

    private readonly Option<int> _minMapq = new("--min-MQ", "-q")
    {
        Description = "Drop records with MAPQ below this (samtools view -q).",
        HelpName = "MAPQ",
    };

    private readonly Option<string[]> _readGroups = new("--read-group", "-r")
    {
        Description = "Keep only this read group; repeat for several (samtools view -r: records without an RG tag are kept).",
        HelpName = "RG",
    };

    private readonly Option<string[]> _references = new("--ref")
    {
        Description = "Keep only records placed on this reference (RNAME); repeat for several. Like 'samtools view FILE NAME', with no index needed.",
        HelpName = "NAME",
    };

    public IEnumerable<Option> All => [_require, _excludeAny, _excludeAll, _minMapq, _readGroups, _references];

    /// <summary>Adds a filter stage to <paramref name="engine"/> for each option given.</summary>
    public BamArrowPipeline Apply(ParseResult parse, BamArrowPipeline engine, BamHeader header)
    {
        if (parse.GetValue(_require) is { } require)
        {
            engine.Where(RecordFilters.RequireFlags(ParseFlags(require, "-f")), "-f");
        }

        if (parse.GetValue(_excludeAny) is { } excludeAny)
        {
            engine.Where(RecordFilters.ExcludeAnyFlags(ParseFlags(excludeAny, "-F")), "-F");
        }

        if (parse.GetValue(_excludeAll) is { } excludeAll)
        {
            engine.Where(RecordFilters.ExcludeAllFlags(ParseFlags(excludeAll, "-G")), "-G");
        }

        if (parse.GetResult(_minMapq) is not null)
        {
            int minimum = parse.GetValue(_minMapq);
            if (minimum is < 0 or > 255)
            {
                throw new UsageException($"-q: MAPQ must be an integer 0–255 (got {minimum})");
            }

            engine.Where(RecordFilters.MinimumMappingQuality(minimum), "-q");
        }

        if (parse.GetValue(_readGroups) is { Length: > 0 } readGroups)
        {
            engine.Where(RecordFilters.ReadGroups(readGroups), "-r");
        }

        if (parse.GetValue(_references) is { Length: > 0 } references)
        {
            engine.Where(UsageException.Check(() => RecordFilters.References(header, references)), "--ref");
        }

        return engine;
    }

    /// <summary>A FLAG value as samtools reads it: decimal, 0x hex, 0 octal, or comma-separated names.</summary>
    internal static int ParseFlags(string text, string option)
    {
        string value = text.Trim();
        if (value.Length > 0 && char.IsAsciiDigit(value[0]))
        {
            bool ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? int.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int flags)
                : value.Length > 1 && value[0] == '0' ? TryParseOctal(value, out flags) : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out flags);
            if (ok && flags is >= 0 and <= 0xFFFF)
            {
                return flags;
            }

            throw new UsageException($"{option}: '{text}' is not a FLAG value (0 to 65535)");
        }

        int result = 0;
        foreach (string name in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int bit = Array.FindIndex(s_flagNames, n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (bit < 0)
            {
                throw new UsageException($"{option}: unknown FLAG name '{name}' (known: {string.Join(',', s_flagNames)})");
            }

            result |= 1 << bit;
        }

        return result;
    }

    private static bool TryParseOctal(string text, out int value)
    {
        value = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '7' || value > 0xFFFF)
            {
                return false;
            }

            value = (value * 8) + (c - '0');
        }

        return true;
    }
}
