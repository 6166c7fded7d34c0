using System.Globalization;
using System.IO.Compression;

namespace Bamflow.Bam.Index;

/// <summary>
/// A BED file read as samtools 1.16 <c>-L</c> reads it (bedidx.c bed_read): plain or gzip; blank lines and lines starting
/// with '#' (after leading white space) skipped; the name is the first white-space-delimited word; with two numbers
/// [start, end) 0-based; with one ("chr 100", VCF-style) the single base [99, 100); a line whose numbers do not parse, or
/// whose end is before its start, is an error unless its name is "track" or "browser".
/// </summary>
public sealed class BedFile
{
    private readonly Dictionary<string, (long Begin, long End)[]> _merged;

    private BedFile(List<(string ReferenceName, long Begin, long End)> intervals)
    {
        Intervals = intervals;
        _merged = new Dictionary<string, (long, long)[]>(StringComparer.Ordinal);
        foreach (IGrouping<string, (string ReferenceName, long Begin, long End)> group in intervals.GroupBy(i => i.ReferenceName, StringComparer.Ordinal))
        {
            _merged[group.Key] = MergeIntervals(group.Select(i => (i.Begin, i.End)));
        }
    }

    /// <summary>The intervals in file order, 0-based half-open.</summary>
    public IReadOnlyList<(string ReferenceName, long Begin, long End)> Intervals { get; }

    /// <summary>The reference names with intervals.</summary>
    public IEnumerable<string> ReferenceNames => _merged.Keys;

    /// <summary>Reads <paramref name="path"/> (plain text or gzip).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="BedFormatException">A line does not parse.</exception>
    public static BedFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Stream input = file;
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        if (b0 == 0x1f && b1 == 0x8b)
        {
            input = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        }

        using (input == file ? null : input)
        {
            return Read(new StreamReader(input), path);
        }
    }

    /// <summary>Reads BED text from <paramref name="reader"/>.</summary>
    /// <exception cref="BedFormatException">A line does not parse.</exception>
    public static BedFile Read(TextReader reader, string? name)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var intervals = new List<(string, long, long)>();
        int number = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            ReadOnlySpan<char> rest = line.AsSpan().TrimStart(" \t\r\v\f");
            if (rest.IsEmpty || rest[0] == '#')
            {
                continue;
            }

            int nameEnd = rest.IndexOfAny(" \t\r\v\f");
            string reference = (nameEnd < 0 ? rest : rest[..nameEnd]).ToString();
            rest = nameEnd < 0 ? [] : rest[(nameEnd + 1)..];
            int count = ScanNumbers(rest, out long begin, out long end);
            if (count == 1)
            {
                end = begin--; // VCF-style: counts from 1
            }

            if (count < 1 || end < begin || begin < 0)
            {
                if (reference is "browser" or "track")
                {
                    continue;
                }

                throw new BedFormatException(name, number, count < 1
                    ? "expected a reference name and start and end positions"
                    : $"end ({end}) must not be less than start ({begin})");
            }

            intervals.Add((reference, begin, end));
        }

        return new BedFile(intervals);
    }

    /// <summary>Whether any interval of <paramref name="referenceName"/> overlaps [<paramref name="begin"/>, <paramref name="end"/>) (bedidx.c bed_overlap).</summary>
    public bool Overlaps(string referenceName, long begin, long end)
    {
        ArgumentNullException.ThrowIfNull(referenceName);
        return _merged.TryGetValue(referenceName, out (long Begin, long End)[]? intervals) && Overlaps(intervals, begin, end);
    }

    /// <summary>The merged intervals of <paramref name="referenceName"/> (sorted, overlapping or touching ones joined), empty if none.</summary>
    public IReadOnlyList<(long Begin, long End)> MergedIntervals(string referenceName)
    {
        ArgumentNullException.ThrowIfNull(referenceName);
        return _merged.TryGetValue(referenceName, out (long Begin, long End)[]? intervals) ? intervals : [];
    }

    /// <summary>Sorted intervals, overlapping or touching ones joined.</summary>
    internal static (long Begin, long End)[] MergeIntervals(IEnumerable<(long Begin, long End)> intervals)
    {
        var sorted = intervals.OrderBy(i => i.Begin).ThenBy(i => i.End).ToList();
        var merged = new List<(long Begin, long End)>(sorted.Count);
        foreach ((long begin, long end) in sorted)
        {
            if (merged.Count > 0 && begin <= merged[^1].End)
            {
                merged[^1] = (merged[^1].Begin, Math.Max(merged[^1].End, end));
            }
            else
            {
                merged.Add((begin, end));
            }
        }

        return [.. merged];
    }

    /// <summary>Whether a merged, sorted interval list overlaps [begin, end): the first interval ending after begin starts before end.</summary>
    internal static bool Overlaps(ReadOnlySpan<(long Begin, long End)> merged, long begin, long end)
    {
        int lo = 0, hi = merged.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (merged[mid].End > begin)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo < merged.Length && merged[lo].Begin < end;
    }

    /// <summary>sscanf(rest, "%lld %lld"): how many of two integers parse.</summary>
    private static int ScanNumbers(ReadOnlySpan<char> rest, out long first, out long second)
    {
        first = second = 0;
        if (!ScanInteger(ref rest, out first))
        {
            return 0;
        }

        return ScanInteger(ref rest, out second) ? 2 : 1;
    }

    private static bool ScanInteger(ref ReadOnlySpan<char> text, out long value)
    {
        text = text.TrimStart(" \t\r\v\f");
        int i = 0;
        if (i < text.Length && (text[i] == '+' || text[i] == '-'))
        {
            i++;
        }

        int digitsStart = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        if (i == digitsStart || !long.TryParse(text[..i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            value = 0;
            return false;
        }

        text = text[i..];
        return true;
    }
}

/// <summary>A BED line does not parse (samtools: "[bed_read] Parse error reading FILE at line N").</summary>
public sealed class BedFormatException : FormatException
{
    /// <summary>Creates the exception for line <paramref name="line"/> of <paramref name="fileName"/>.</summary>
    public BedFormatException(string? fileName, int line, string detail)
        : base($"{fileName ?? "BED"}: parse error at line {line}: {detail}")
    {
        FileName = fileName;
        Line = line;
    }

    /// <summary>The BED file.</summary>
    public string? FileName { get; }

    /// <summary>The 1-based line number.</summary>
    public int Line { get; }
}
