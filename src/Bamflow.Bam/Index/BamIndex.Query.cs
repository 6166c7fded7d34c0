using Bamflow.Bgzf;

namespace Bamflow.Bam.Index;

public sealed partial class BamIndex
{
    /// <summary>
    /// The ranges to read for records overlapping [<paramref name="begin"/>, <paramref name="end"/>) of
    /// <paramref name="referenceId"/>, as htslib's <c>hts_itr_query</c> computes them: the chunks of the bins
    /// <see cref="BinningScheme.RegionToBins"/> names, pruned by the minimum offset (the bin's loffset: for BAI the linear
    /// index at the region's start, falling back to earlier windows) and by the first chunk of a bin to the right of the
    /// region, then sorted and merged. In file order; empty when nothing can overlap. Records read from them must still
    /// be tested for overlap.
    /// </summary>
    public IReadOnlyList<BgzfRange> Query(int referenceId, long begin, long end)
    {
        var chunks = new List<(ulong Begin, ulong End)>();
        CollectChunks(referenceId, begin, end, chunks);
        return Merge(chunks);
    }

    /// <summary>
    /// The range holding the reads with no reference ('*'): from the end of the last placed read (the largest end offset
    /// of the references' metadata) to the end of the file, as htslib's HTS_IDX_NOCOOR iterator; empty when the index
    /// says there are none.
    /// </summary>
    public IReadOnlyList<BgzfRange> QueryUnplaced()
    {
        VirtualPosition? start = UnplacedStart();
        return start is { } s ? [BgzfRange.ToEnd(s)] : [];
    }

    /// <summary>Where the unplaced reads start (htslib's hts_itr_off for HTS_IDX_NOCOOR), or null when there are none.</summary>
    internal VirtualPosition? UnplacedStart()
    {
        if (UnplacedCount == 0)
        {
            return null;
        }

        ulong? off0 = null;
        foreach (Dictionary<int, Bin> bins in _references)
        {
            if (bins.TryGetValue(Scheme.MetadataBin, out Bin? meta) && meta.Chunks.Length >= 2 && (off0 is null || off0 < meta.Chunks[1]))
            {
                off0 = meta.Chunks[1];
            }
        }

        // Only unplaced reads in the file: htslib reads from offset 0; the first record follows the header, which the
        // caller must skip (a null here would lose them), so this is reported as "from the start".
        off0 ??= UnplacedCount > 0 ? 0 : null;
        return off0 is { } value ? new VirtualPosition(value) : null;
    }

    /// <summary>Adds the chunks htslib's hts_itr_query keeps for one interval to <paramref name="chunks"/> (unmerged).</summary>
    internal void CollectChunks(int referenceId, long begin, long end, List<(ulong Begin, ulong End)> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (referenceId < 0 || referenceId >= _references.Length)
        {
            return;
        }

        Dictionary<int, Bin> bins = _references[referenceId];
        if (begin < 0)
        {
            begin = 0;
        }

        long maxPosition = Scheme.MaxPosition;
        if (end > maxPosition)
        {
            end = maxPosition; // reg2bins clamps the end to the scheme's span
        }

        if (begin >= end || bins.Count == 0)
        {
            return;
        }

        int firstLeaf = Scheme.FirstLeafBin;

        // min_off: the loffset of the leaf bin at begin, or of the nearest existing bin to its left within the same
        // parent, or of its ancestors.
        long bin = firstLeaf + (begin >> Scheme.MinShift);
        Bin? found = null;
        do
        {
            if (bins.TryGetValue((int)bin, out found))
            {
                break;
            }

            long first = (Parent(bin) << 3) + 1;
            bin = bin > first ? bin - 1 : Parent(bin);
        }
        while (bin != 0);

        if (bin == 0)
        {
            bins.TryGetValue(0, out found);
        }

        ulong minOffset = found?.MinimumOffset ?? 0;

        // max_off: the first chunk of an existing bin to the right of end.
        ulong maxOffset;
        bin = firstLeaf + ((end - 1) >> Scheme.MinShift) + 1;
        if (bin >= Scheme.BinLimit)
        {
            bin = 0;
        }

        while (true)
        {
            while (bin % 8 == 1)
            {
                bin = Parent(bin);
            }

            if (bin == 0)
            {
                maxOffset = ulong.MaxValue;
                break;
            }

            if (bins.TryGetValue((int)bin, out Bin? right) && right.Chunks.Length > 0)
            {
                maxOffset = right.Chunks[0];
                break;
            }

            bin++;
        }

        var numbers = new List<int>();
        Scheme.RegionToBins(begin, end, numbers);
        foreach (int number in numbers)
        {
            if (!bins.TryGetValue(number, out Bin? b))
            {
                continue;
            }

            ulong[] c = b.Chunks;
            for (int j = 0; j + 1 < c.Length; j += 2)
            {
                if (c[j + 1] > minOffset && c[j] < maxOffset && c[j] < c[j + 1])
                {
                    chunks.Add((c[j], c[j + 1]));
                }
            }
        }
    }

    /// <summary>htslib's merge of a query's chunks: sorted, contained ones dropped, overlaps cut, chunks meeting in one BGZF block joined.</summary>
    internal static List<BgzfRange> Merge(List<(ulong Begin, ulong End)> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var result = new List<BgzfRange>();
        if (chunks.Count == 0)
        {
            return result;
        }

        chunks.Sort();
        var off = new List<(ulong Begin, ulong End)>(chunks.Count) { chunks[0] };
        for (int i = 1; i < chunks.Count; i++)
        {
            if (off[^1].End < chunks[i].End)
            {
                off.Add(chunks[i]); // resolve completely contained chunks
            }
        }

        for (int i = 1; i < off.Count; i++)
        {
            if (off[i - 1].End >= off[i].Begin)
            {
                off[i - 1] = (off[i - 1].Begin, off[i].Begin); // resolve overlaps
            }
        }

        (ulong Begin, ulong End) current = off[0];
        for (int i = 1; i < off.Count; i++)
        {
            if (current.End >> 16 == off[i].Begin >> 16)
            {
                current.End = off[i].End; // adjacent: in the same BGZF block
            }
            else
            {
                Add(result, current);
                current = off[i];
            }
        }

        Add(result, current);
        return result;

        static void Add(List<BgzfRange> ranges, (ulong Begin, ulong End) chunk)
        {
            if (chunk.Begin < chunk.End)
            {
                ranges.Add(new BgzfRange(new VirtualPosition(chunk.Begin), new VirtualPosition(chunk.End)));
            }
        }
    }

    private static long Parent(long bin) => (bin - 1) >> 3; // hts_bin_parent
}
