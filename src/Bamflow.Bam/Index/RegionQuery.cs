using Bamflow.Bgzf;

namespace Bamflow.Bam.Index;

/// <summary>
/// What to read and what to keep for regions, <c>-M</c> and <c>-L</c>, as samtools 1.16 <c>view</c> does. Built once per run.
/// <list type="bullet">
/// <item>No regions, no BED: one pass over the whole file keeping everything.</item>
/// <item>Regions without <c>-M</c>: one pass per region in the order given (a record in two regions is output twice);
/// with a BED, each keeps only records also overlapping it (and never '*' reads).</item>
/// <item>Regions with <c>-M</c>: one pass over the merged regions (each record once, file order); with a BED, the regions
/// are intersected with its intervals (samtools' bed_hash_regions filter); an empty intersection gives one pass that
/// reads nothing (samtools aborts with "Region list is empty"): see <see cref="IsEmpty"/>.</item>
/// <item>A BED alone: with an index, one pass over its merged intervals through the index; without one, the whole
/// file filtered by it. The same records either way.</item>
/// </list>
/// </summary>
public sealed class RegionQuery
{
    private RegionQuery(IReadOnlyList<RegionPass> passes, bool isEmpty)
    {
        Passes = passes;
        IsEmpty = isEmpty;
    }

    /// <summary>The passes, to be read one after the other, their output concatenated.</summary>
    public IReadOnlyList<RegionPass> Passes { get; }

    /// <summary>
    /// True when <c>-M</c> with a BED left no region (the intersection is empty): samtools 1.16 aborts there ("Region
    /// list is empty", exit 1); the passes read nothing.
    /// </summary>
    public bool IsEmpty { get; }

    /// <summary>Plans the passes.</summary>
    /// <param name="header">The BAM header (reference names and count).</param>
    /// <param name="regions">Regions as given on the command line (parsed with <see cref="RegionParser"/>).</param>
    /// <param name="multiRegion">samtools' <c>-M</c>.</param>
    /// <param name="bed">samtools' <c>-L</c>, or null.</param>
    /// <param name="index">
    /// null when the BAM has no index (then a BED alone reads the whole file, and regions throw
    /// <see cref="BamIndexException"/> Missing; give a function calling <see cref="BamIndex.Open"/> for samtools'
    /// message); otherwise called at most once, only when regions or a BED are given.
    /// </param>
    /// <exception cref="RegionFormatException">A region does not parse.</exception>
    /// <exception cref="BamIndexException">Regions need an index and there is none, or it does not match the header.</exception>
    public static RegionQuery Create(BamHeader header, IReadOnlyList<string> regions, bool multiRegion, BedFile? bed, Func<BamIndex>? index)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(regions);
        int referenceCount = header.References.Count;
        var parsed = regions.Select(r => RegionParser.Parse(r, header)).ToList();
        (long Begin, long End)[]?[]? bedByReference = bed is null ? null : BedByReference(header, bed);

        if (parsed.Count == 0)
        {
            if (bedByReference is null)
            {
                return new RegionQuery([new RegionPass(null, null, false, null, "the whole file")], false);
            }

            if (index is null)
            {
                return new RegionQuery([new RegionPass(null, null, false, bedByReference, "the BED file's intervals")], false);
            }

            BamIndex bedIndex = Checked(index(), referenceCount);
            return new RegionQuery([Multi(bedIndex, bedByReference, false, bedByReference, "the BED file's intervals")], false);
        }

        if (index is null)
        {
            throw BamIndexException.Missing(null);
        }

        BamIndex idx = Checked(index(), referenceCount);
        if (!multiRegion)
        {
            var passes = new List<RegionPass>(parsed.Count);
            bool unplacedFromStart = false;
            foreach (GenomicRegion region in parsed)
            {
                RegionPass single = Single(idx, region, referenceCount, bedByReference, region.ToString(header));
                if (region.IsUnplaced && single.Ranges is null)
                {
                    // A file with only unplaced reads: htslib's '*' iterator reads on from where the file is, which is
                    // after the header the first time and at the end of the file after that. samtools 1.16 therefore
                    // outputs the reads for the first '*' only.
                    single = unplacedFromStart ? new RegionPass([], single.Regions, true, bedByReference, single.Description) : single;
                    unplacedFromStart = true;
                }

                passes.Add(single);
            }

            return new RegionQuery(passes, false);
        }

        // -M: merge the regions per reference; with -L, intersect them with the BED.
        var perReference = new (long Begin, long End)[]?[referenceCount];
        bool unplaced = false;
        foreach (IGrouping<int, GenomicRegion> group in parsed.GroupBy(r => r.ReferenceId))
        {
            if (group.Key < 0)
            {
                unplaced = true;
                continue;
            }

            perReference[group.Key] = BedFile.MergeIntervals(group.Select(r => (r.Begin, r.End)));
        }

        if (bedByReference is not null)
        {
            unplaced = false; // a '*' read never overlaps a BED interval
            for (int t = 0; t < referenceCount; t++)
            {
                perReference[t] = perReference[t] is { } mine && bedByReference[t] is { } theirs ? Intersect(mine, theirs) : null;
            }
        }

        int count = perReference.Sum(p => p?.Length ?? 0) + (unplaced ? 1 : 0);
        string description = count == 1 && parsed.Count == 1 ? parsed[0].ToString(header) : $"{count} merged regions";
        RegionPass pass = Multi(idx, perReference, unplaced, bedByReference, description);
        return new RegionQuery([pass], count == 0);
    }

    private static BamIndex Checked(BamIndex index, int referenceCount)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index.ReferenceCount != referenceCount)
        {
            throw BamIndexException.ReferenceCountMismatch(index.FileName, index.ReferenceCount, referenceCount);
        }

        return index;
    }

    private static RegionPass Single(BamIndex index, GenomicRegion region, int referenceCount, (long Begin, long End)[]?[]? bed, string description)
    {
        var regions = new (long Begin, long End)[]?[referenceCount];
        if (region.IsUnplaced)
        {
            VirtualPosition? start = index.UnplacedStart();
            IReadOnlyList<BgzfRange>? unplacedRanges = start switch
            {
                null => [],
                { Value: 0 } => null, // no placed reads: htslib reads on from the header, i.e. the whole file
                { } s => [BgzfRange.ToEnd(s)],
            };
            return new RegionPass(unplacedRanges, regions, true, bed, description);
        }

        regions[region.ReferenceId] = [(region.Begin, region.End)];
        return new RegionPass(index.Query(region.ReferenceId, region.Begin, region.End), regions, false, bed, description);
    }

    private static RegionPass Multi(BamIndex index, (long Begin, long End)[]?[] regions, bool unplaced, (long Begin, long End)[]?[]? bed, string description)
    {
        var chunks = new List<(ulong Begin, ulong End)>();
        for (int t = 0; t < regions.Length; t++)
        {
            foreach ((long begin, long end) in regions[t] ?? [])
            {
                index.CollectChunks(t, begin, end, chunks);
            }
        }

        if (unplaced && index.UnplacedStart() is { } start)
        {
            if (start.Value == 0)
            {
                return new RegionPass(null, regions, true, bed, description); // only unplaced reads: the whole file
            }

            chunks.Add((start.Value, BgzfRange.EndOfFile.Value));
        }

        return new RegionPass(BamIndex.Merge(chunks), regions, unplaced, bed, description);
    }

    private static (long Begin, long End)[]?[] BedByReference(BamHeader header, BedFile bed)
    {
        var result = new (long Begin, long End)[]?[header.References.Count];
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = header.References.Count - 1; i >= 0; i--)
        {
            names[header.References[i].Name] = i; // the first of duplicate names, as htslib's hash keeps
        }

        foreach (string name in bed.ReferenceNames)
        {
            if (names.TryGetValue(name, out int tid))
            {
                result[tid] = [.. bed.MergedIntervals(name)];
            }
        }

        return result;
    }

    private static (long Begin, long End)[]? Intersect((long Begin, long End)[] a, (long Begin, long End)[] b)
    {
        var result = new List<(long Begin, long End)>();
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            long begin = Math.Max(a[i].Begin, b[j].Begin), end = Math.Min(a[i].End, b[j].End);
            if (begin < end)
            {
                result.Add((begin, end));
            }

            if (a[i].End < b[j].End)
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return result.Count == 0 ? null : [.. result];
    }
}

/// <summary>One sequential read of the input: which ranges to read and which of their records to keep.</summary>
public sealed class RegionPass
{
    private readonly (long Begin, long End)[]?[]? _regions;
    private readonly bool _keepUnplaced;
    private readonly (long Begin, long End)[]?[]? _bed;

    internal RegionPass(IReadOnlyList<BgzfRange>? ranges, (long Begin, long End)[]?[]? regions, bool keepUnplaced, (long Begin, long End)[]?[]? bed, string description)
    {
        Ranges = ranges;
        _regions = regions;
        _keepUnplaced = keepUnplaced;
        _bed = bed;
        Description = description;
    }

    /// <summary>null: the whole file (then <see cref="Keeps"/> filters); else the merged index ranges in file order (may be empty).</summary>
    public IReadOnlyList<BgzfRange>? Ranges { get; }

    internal (long Begin, long End)[]?[]? Regions => _regions;

    /// <summary>Whether this pass keeps every record it reads (no region or BED filter).</summary>
    public bool KeepsAll => _regions is null && _bed is null;

    /// <summary>For messages: "20:1000-2000", "3 merged regions", "the whole file".</summary>
    public string Description { get; }

    /// <summary>
    /// Whether this pass outputs <paramref name="record"/>: it overlaps the pass's region(s) by POS and
    /// <see cref="BamRecord.EndPosition"/> (htslib's hts_itr_next / hts_itr_multi_next), '*' keeping records with no
    /// reference; and, with a BED, it has a reference and overlaps a BED interval (samtools' process_aln). Allocates
    /// nothing; safe on many threads at once.
    /// </summary>
    public bool Keeps(BamRecord record)
    {
        if (_regions is null && _bed is null)
        {
            return true;
        }

        int tid = record.ReferenceId;
        if (tid < 0)
        {
            return _keepUnplaced && _bed is null;
        }

        long begin = record.Position;
        long end = -1;
        if (_regions is not null)
        {
            if (tid >= _regions.Length || _regions[tid] is not { } mine)
            {
                return false;
            }

            end = record.EndPosition;
            if (!BedFile.Overlaps(mine, begin, end))
            {
                return false;
            }
        }

        if (_bed is not null)
        {
            if (tid >= _bed.Length || _bed[tid] is not { } theirs)
            {
                return false;
            }

            if (end < 0)
            {
                end = record.EndPosition;
            }

            return BedFile.Overlaps(theirs, begin, end);
        }

        return true;
    }
}
