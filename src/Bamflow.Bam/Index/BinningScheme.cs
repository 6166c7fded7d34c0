namespace Bamflow.Bam.Index;

/// <summary>
/// The hierarchical binning of BAI and CSI indexes (SAMv1 §5.1.1, CSIv1 §1): level 0 is one bin over the whole
/// reference; each level below splits every bin into 8; the smallest bins span 2^<see cref="MinShift"/> bases.
/// BAI is <see cref="Bai"/> (min_shift 14, depth 5: 16 kb bins, references up to 2^29 − 1); CSI takes any.
/// Positions are 0-based, intervals half-open: [begin, end).
/// </summary>
public readonly record struct BinningScheme
{
    /// <summary>The fixed scheme of BAI (SAMv1 §5.3): min_shift 14, depth 5.</summary>
    public static BinningScheme Bai { get; } = new(14, 5);

    /// <summary>A scheme of <paramref name="minShift"/> and <paramref name="depth"/> levels below the root.</summary>
    public BinningScheme(int minShift, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minShift, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 0);
        // The largest bin number must fit the 32-bit bin fields; positions must fit 63 bits.
        if (minShift + (3 * depth) > 62 || depth > 10)
        {
            throw new ArgumentOutOfRangeException(nameof(depth), $"min_shift {minShift} with depth {depth} does not describe a usable index");
        }

        MinShift = minShift;
        Depth = depth;
    }

    /// <summary>log2 of the smallest bins' span (min_shift).</summary>
    public int MinShift { get; }

    /// <summary>Levels below the root bin (depth).</summary>
    public int Depth { get; }

    /// <summary>The span the scheme covers: positions below 2^(min_shift + 3 × depth).</summary>
    public long MaxPosition => 1L << (MinShift + (3 * Depth));

    /// <summary>The first bin number past the scheme's bins: ((1 &lt;&lt; 3(depth + 1)) − 1) / 7. BAI: 37449.</summary>
    public int BinLimit => (int)(((1L << (3 * (Depth + 1))) - 1) / 7);

    /// <summary>The pseudo-bin holding an index's per-reference metadata (BinLimit + 1; BAI: 37450).</summary>
    public int MetadataBin => BinLimit + 1;

    /// <summary>The first bin of the smallest bins' level: the linear index's granularity.</summary>
    public int FirstLeafBin => (int)(((1L << (3 * Depth)) - 1) / 7);

    /// <summary>The smallest bin holding all of [<paramref name="begin"/>, <paramref name="end"/>) (reg2bin of CSIv1 §3).</summary>
    public int RegionToBin(long begin, long end)
    {
        int shift = MinShift;
        long t = ((1L << (Depth * 3)) - 1) / 7;
        end--;
        for (int level = Depth; level > 0; level--, shift += 3, t -= 1L << (level * 3))
        {
            if (begin >> shift == end >> shift)
            {
                return (int)(t + (begin >> shift));
            }
        }

        return 0;
    }

    /// <summary>Every bin that may hold a record overlapping [<paramref name="begin"/>, <paramref name="end"/>) (reg2bins of CSIv1 §3), level by level.</summary>
    public void RegionToBins(long begin, long end, List<int> bins)
    {
        ArgumentNullException.ThrowIfNull(bins);
        bins.Clear();
        end--;
        int shift = MinShift + (Depth * 3);
        long t = 0;
        for (int level = 0; level <= Depth; shift -= 3, t += 1L << (level * 3), level++)
        {
            long b = t + (begin >> shift), e = t + (end >> shift);
            for (long i = b; i <= e; i++)
            {
                bins.Add((int)i);
            }
        }
    }

    /// <summary>The level of <paramref name="bin"/> (0 for the root).</summary>
    public int LevelOf(int bin)
    {
        int level = 0;
        for (long first = 0, size = 1; level <= Depth; level++, first += size, size <<= 3)
        {
            if (bin < first + size)
            {
                return level;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(bin), $"bin {bin} is past the scheme's {BinLimit} bins");
    }

    /// <summary>The first position of <paramref name="bin"/> (hts_bin_first's position).</summary>
    public long BinStart(int bin)
    {
        int level = LevelOf(bin);
        long first = ((1L << (3 * level)) - 1) / 7;
        return (bin - first) << (MinShift + (3 * (Depth - level)));
    }
}
