using System.CommandLine;
using System.CommandLine.Parsing;

namespace Bamflow.Cli;

/// <summary>
/// What a parsed command line gets wrong, said in the user's terms: an unknown option is named (System.CommandLine
/// takes a word that starts with a dash for the input path, or an option's value), with the bamflow option a
/// samtools user means where it is obvious; a value that looks like an option is refused; a value that is not a
/// number says what the number is.
/// </summary>
internal static class UsageErrors
{
    /// <summary>samtools' options that bamflow spells differently: (command, samtools option) → the hint.</summary>
    private static readonly Dictionary<(string Command, string Option), string> s_samtoolsHints = new()
    {
        [("stats", "-O")] = "'samtools flagstat -O json' is 'bamflow stats --json'",
        [("convert", "-O")] = "bamflow picks the output format from the -o name's extension, or --format arrow|arrow-stream|parquet",
        [("convert", "-b")] = "bamflow writes Arrow or Parquet, never BAM: see --format",
    };

    /// <summary>What a number given to an option means, by the option's name, for the error when it is not one.</summary>
    private static readonly Dictionary<string, string> s_numbers = new(StringComparer.Ordinal)
    {
        ["--min-MQ"] = "MAPQ must be an integer 0–255",
        ["--threads"] = "the number of cores must be an integer (0 or 1: one core)",
        ["--limit"] = "the record count must be an integer, 0 or more",
        ["--batch-size"] = "records per batch must be an integer, 1 or more",
        ["--tag-scan"] = "the record count must be an integer, 0 or more",
        ["--row-group-size"] = "rows per row group must be an integer, 1 or more",
    };

    /// <summary>The messages for a command line, or none when it is right.</summary>
    public static List<string> Describe(ParseResult parse)
    {
        string command = parse.CommandResult.Command.Name;
        var messages = new List<string>();
        foreach (SymbolResult result in Walk(parse.CommandResult))
        {
            switch (result)
            {
                case ArgumentResult { Parent: CommandResult } argument:
                    // A dash word bound to the input: an option System.CommandLine does not know.
                    foreach (Token token in argument.Tokens.Where(t => LooksLikeOption(t.Value)))
                    {
                        messages.Add(Unknown(parse, command, token.Value));
                    }

                    break;
                case OptionResult option when option.Tokens.FirstOrDefault(t => LooksLikeOption(t.Value)) is { } value:
                    string name = option.IdentifierToken?.Value ?? option.Option.Name;
                    messages.Add($"option '{name}' needs a value, but '{value.Value}' looks like an option"
                        + $" (for a file of that name write ./{value.Value}{(name is "-o" or "--output" ? "; '-o -' writes to stdout" : "")})");
                    break;
            }
        }

        if (messages.Count > 0)
        {
            return messages; // the other errors (the words after the unknown option, taken as extra inputs) follow from it
        }

        foreach (string word in parse.UnmatchedTokens.Where(LooksLikeOption))
        {
            messages.Add(Unknown(parse, command, word));
        }

        if (messages.Count > 0)
        {
            return messages;
        }

        foreach (ParseError error in parse.Errors)
        {
            messages.Add(Reword(error));
        }

        return messages;
    }

    /// <summary>A word that starts with a dash and is neither '-' (stdin, stdout) nor a negative number.</summary>
    private static bool LooksLikeOption(string word) => word.Length > 1 && word[0] == '-' && !(char.IsAsciiDigit(word[1]) || word[1] == '.');

    private static IEnumerable<SymbolResult> Walk(SymbolResult result)
    {
        yield return result;
        if (result is CommandResult command)
        {
            foreach (SymbolResult child in command.Children)
            {
                foreach (SymbolResult descendant in Walk(child))
                {
                    yield return descendant;
                }
            }
        }
    }

    private static string Unknown(ParseResult parse, string command, string word)
    {
        string name = word.Split('=', 2)[0];
        string message = $"unknown option '{name}' for '{command}'";
        if (s_samtoolsHints.TryGetValue((command, name), out string? hint))
        {
            return $"{message}: {hint}";
        }

        string[] known = [.. parse.CommandResult.Command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal))];
        string? closest = name.StartsWith("--", StringComparison.Ordinal)
            ? known.Select(k => (Name: k, Distance: Distance(name, k))).Where(p => p.Distance <= 2).OrderBy(p => p.Distance).Select(p => p.Name).FirstOrDefault()
            : null;
        return closest is null ? message : $"{message}: did you mean '{closest}'?";
    }

    /// <summary>A parse error, with a number's meaning where it failed to be one.</summary>
    private static string Reword(ParseError error)
    {
        OptionResult? option = error.SymbolResult switch
        {
            OptionResult o => o,
            ArgumentResult { Parent: OptionResult o } => o,
            _ => null,
        };
        if (option is not null && error.Message.Contains("as expected type", StringComparison.Ordinal) && s_numbers.TryGetValue(option.Option.Name, out string? meaning))
        {
            string name = option.IdentifierToken?.Value ?? option.Option.Name;
            string value = option.Tokens.Count > 0 ? option.Tokens[^1].Value : "";
            return $"{name}: '{value}' is not a number: {meaning}";
        }

        return error.Message;
    }

    /// <summary>The Levenshtein distance, for "did you mean".</summary>
    private static int Distance(string a, string b)
    {
        int[] previous = [.. Enumerable.Range(0, b.Length + 1)];
        int[] current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
