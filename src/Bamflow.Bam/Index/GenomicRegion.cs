namespace Bamflow.Bam.Index;

/// <summary>
/// A region of one reference: 0-based, half-open [<paramref name="Begin"/>, <paramref name="End"/>).
/// <paramref name="ReferenceId"/> −1 is '*', the reads with no reference.
/// </summary>
public readonly record struct GenomicRegion(int ReferenceId, long Begin, long End)
{
    /// <summary>The largest end a region without one gets: INT_MAX, as htslib's hts_itr_querys clamps it.</summary>
    public const long OpenEnd = int.MaxValue;

    /// <summary>'*': the reads with no reference.</summary>
    public static GenomicRegion Unplaced { get; } = new(-1, 0, 0);

    /// <summary>Whether this is '*' (reads with no reference).</summary>
    public bool IsUnplaced => ReferenceId < 0;

    /// <summary>samtools-style text: "name", "name:beg-end" (1-based, inclusive) or "*".</summary>
    public string ToString(BamHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (IsUnplaced)
        {
            return "*";
        }

        string name = header.References[ReferenceId].Name;
        if (name.Contains(':', StringComparison.Ordinal))
        {
            name = "{" + name + "}";
        }

        return Begin == 0 && End >= OpenEnd ? name : $"{name}:{Begin + 1}-{End}";
    }
}

/// <summary>Why a region does not parse.</summary>
public enum RegionFormatError
{
    /// <summary>The reference name is not in the header.</summary>
    UnknownReference,
    /// <summary>The coordinates do not parse (or a brace is not closed).</summary>
    Malformed,
    /// <summary>The text names a reference whole and also a prefix of it with coordinates: use {name} to choose.</summary>
    Ambiguous,
    /// <summary>The begin is past the end.</summary>
    Empty,
}

/// <summary>A region given on the command line does not parse (samtools: "specifies an invalid region or unknown reference").</summary>
public sealed class RegionFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="region"/>.</summary>
    public RegionFormatException(string region, RegionFormatError reason, string detail)
        : base($"region \"{region}\" {detail}")
    {
        Region = region;
        Reason = reason;
    }

    /// <summary>The region as given.</summary>
    public string Region { get; }

    /// <summary>What is wrong.</summary>
    public RegionFormatError Reason { get; }
}
