namespace Bamflow.Bam.Index;

/// <summary>
/// Parses regions as samtools 1.16 <c>view</c> does (htslib's hts_itr_querys → hts_parse_region with
/// HTS_PARSE_THOUSANDS_SEP): <c>chr</c>, <c>chr:beg</c>, <c>chr:beg-end</c>, <c>chr:-end</c>, <c>chr:beg-</c>,
/// thousands separators and k/M/G suffixes in numbers, <c>{name:with:colons}:beg-end</c>, names containing ':' tried
/// whole first (an error when a prefix also names a reference), and <c>*</c>.
/// </summary>
public static class RegionParser
{
    private const long Int6432Max = ((long)int.MaxValue << 32) | int.MaxValue; // htslib INT64_32_MAX

    /// <summary>Parses <paramref name="text"/> against <paramref name="header"/>'s reference names.</summary>
    /// <exception cref="RegionFormatException">Unknown reference, malformed, ambiguous or empty.</exception>
    public static GenomicRegion Parse(string text, BamHeader header)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(header);
        if (text == "*")
        {
            return GenomicRegion.Unplaced;
        }

        int tid;
        long begin, end;
        int colon;
        bool quoted = false;
        string s = text;
        if (s.StartsWith('{'))
        {
            int close = s.IndexOf('}', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new RegionFormatException(text, RegionFormatError.Malformed, "has mismatching braces");
            }

            colon = close + 1 < s.Length && s[close + 1] == ':' ? close + 1 : -1;
            quoted = true;
            if (colon < 0)
            {
                // No colon: the name is what is between the braces and anything after (htslib trims one character).
                string name = s[1..^1];
                return Whole(text, Lookup(header, name));
            }

            string braced = s[1..close];
            tid = Lookup(header, braced);
            if (tid < 0)
            {
                throw Unknown(text, braced);
            }
        }
        else
        {
            colon = s.LastIndexOf(':');
            if (colon < 0)
            {
                return Whole(text, Lookup(header, s));
            }

            tid = Lookup(header, s);
            if (tid >= 0)
            {
                if (Lookup(header, s[..colon]) >= 0)
                {
                    throw new RegionFormatException(text, RegionFormatError.Ambiguous, $"is ambiguous: use {{{s}}} or {{{s[..colon]}}}{s[colon..]}");
                }

                return new GenomicRegion(tid, 0, GenomicRegion.OpenEnd);
            }

            tid = Lookup(header, s[..colon]);
            if (tid < 0)
            {
                throw Unknown(text, s[..colon]);
            }
        }

        _ = quoted;
        ReadOnlySpan<char> rest = s.AsSpan(colon + 1);
        begin = ParseDecimal(rest, out int used) - 1;
        ReadOnlySpan<char> after = rest[used..];
        if (begin < 0)
        {
            if (after.IsEmpty || char.IsAsciiDigit(after[0]) || after[0] == ',')
            {
                // chr:-100 is chr:1-100
                end = begin == -1 ? Int6432Max : -(begin + 1);
                return Clamp(text, tid, 0, end);
            }

            if (after[0] == '-' && begin == -1)
            {
                begin = 0; // chr:0-N is chr:1-N
            }
            else if (after[0] == '-')
            {
                // chr:-5-10: htslib's "Coordinates must be > 0"
                throw new RegionFormatException(text, RegionFormatError.Malformed, $"has a negative begin {begin + 1}: coordinates must be > 0");
            }
            else
            {
                throw Malformed(text, after);
            }
        }

        if (after.IsEmpty)
        {
            end = Int6432Max;
        }
        else if (after[0] == '-')
        {
            ReadOnlySpan<char> endText = after[1..];
            end = ParseDecimal(endText, out used);
            ReadOnlySpan<char> tail = endText[used..];
            if (!tail.IsEmpty && tail[0] != ',')
            {
                throw Malformed(text, tail);
            }
        }
        else
        {
            throw Malformed(text, after);
        }

        if (end == 0)
        {
            end = Int6432Max; // chr:100- is chr:100-<end>
        }

        if (begin >= end)
        {
            throw new RegionFormatException(text, RegionFormatError.Empty, $"is empty: its begin {begin + 1} is past its end {end}");
        }

        return Clamp(text, tid, begin, end);
    }

    private static GenomicRegion Whole(string text, int tid) =>
        tid >= 0 ? new GenomicRegion(tid, 0, GenomicRegion.OpenEnd) : throw Unknown(text, text);

    private static GenomicRegion Clamp(string text, int tid, long begin, long end)
    {
        if (end > GenomicRegion.OpenEnd)
        {
            end = GenomicRegion.OpenEnd; // hts_itr_querys: "Remove when fully 64-bit compliant"
        }

        if (begin >= end)
        {
            throw new RegionFormatException(text, RegionFormatError.Empty, $"is empty: its begin {begin + 1} is past its end {end}");
        }

        return new GenomicRegion(tid, begin, end);
    }

    private static RegionFormatException Unknown(string text, string name) =>
        new(text, RegionFormatError.UnknownReference, $"names reference \"{name}\", which is not in the BAM header");

    private static RegionFormatException Malformed(string text, ReadOnlySpan<char> rest) =>
        new(text, RegionFormatError.Malformed, $"has unexpected text \"{rest}\" after its coordinates");

    private static int Lookup(BamHeader header, string name)
    {
        IReadOnlyList<BamReference> references = header.References;
        for (int i = 0; i < references.Count; i++)
        {
            if (string.Equals(references[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>htslib's hts_parse_decimal with HTS_PARSE_THOUSANDS_SEP: sign, digits and commas, a fraction, an exponent, a k/M/G suffix.</summary>
    internal static long ParseDecimal(ReadOnlySpan<char> text, out int used)
    {
        int i = 0;
        while (i < text.Length && IsCSpace(text[i]))
        {
            i++;
        }

        long n = 0;
        int decimals = 0, e = 0;
        char sign = '+';
        if (i < text.Length && (text[i] == '+' || text[i] == '-'))
        {
            sign = text[i++];
        }

        unchecked
        {
            while (i < text.Length)
            {
                if (char.IsAsciiDigit(text[i]))
                {
                    n = (10 * n) + (text[i++] - '0');
                }
                else if (text[i] == ',')
                {
                    i++;
                }
                else
                {
                    break;
                }
            }

            if (i < text.Length && text[i] == '.')
            {
                i++;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    decimals++;
                    n = (10 * n) + (text[i++] - '0');
                }
            }

            if (i < text.Length && (text[i] == 'E' || text[i] == 'e'))
            {
                i++;
                char esign = '+';
                if (i < text.Length && (text[i] == '+' || text[i] == '-'))
                {
                    esign = text[i++];
                }

                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    e = (10 * e) + (text[i++] - '0');
                }

                if (esign == '-')
                {
                    e = -e;
                }
            }

            if (i < text.Length)
            {
                switch (text[i])
                {
                    case 'k' or 'K': e += 3; i++; break;
                    case 'm' or 'M': e += 6; i++; break;
                    case 'g' or 'G': e += 9; i++; break;
                }
            }

            e -= decimals;
            for (; e > 0 && e < 64; e--)
            {
                n *= 10;
            }

            for (; e < 0; e++)
            {
                n /= 10;
            }
        }

        used = i;
        return sign == '+' ? n : -n;
    }

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
