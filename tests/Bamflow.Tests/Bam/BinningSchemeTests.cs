using Bamflow.Bam.Index;

namespace Bamflow.Tests.Bam;

/// <summary>The binning functions against the SAM spec's C (SAMv1 §5.3, transcribed here as the oracle) and its constants.</summary>
public sealed class BinningSchemeTests
{
    // SAMv1 §5.3, reg2bin for BAI as printed in the spec: the independent oracle for the general (CSI) code.
    private static int SpecReg2Bin(long beg, long end)
    {
        --end;
        if (beg >> 14 == end >> 14) return (int)(((1 << 15) - 1) / 7 + (beg >> 14));
        if (beg >> 17 == end >> 17) return (int)(((1 << 12) - 1) / 7 + (beg >> 17));
        if (beg >> 20 == end >> 20) return (int)(((1 << 9) - 1) / 7 + (beg >> 20));
        if (beg >> 23 == end >> 23) return (int)(((1 << 6) - 1) / 7 + (beg >> 23));
        if (beg >> 26 == end >> 26) return (int)(((1 << 3) - 1) / 7 + (beg >> 26));
        return 0;
    }

    private static List<int> SpecReg2Bins(long beg, long end)
    {
        var list = new List<int> { 0 };
        --end;
        for (long k = 1 + (beg >> 26); k <= 1 + (end >> 26); ++k) list.Add((int)k);
        for (long k = 9 + (beg >> 23); k <= 9 + (end >> 23); ++k) list.Add((int)k);
        for (long k = 73 + (beg >> 20); k <= 73 + (end >> 20); ++k) list.Add((int)k);
        for (long k = 585 + (beg >> 17); k <= 585 + (end >> 17); ++k) list.Add((int)k);
        for (long k = 4681 + (beg >> 14); k <= 4681 + (end >> 14); ++k) list.Add((int)k);
        return list;
    }

    [Fact]
    public void BaiConstantsAreTheSpecs()
    {
        Assert.Equal(37449, BinningScheme.Bai.BinLimit);
        Assert.Equal(37450, BinningScheme.Bai.MetadataBin);
        Assert.Equal(4681, BinningScheme.Bai.FirstLeafBin);
        Assert.Equal(1L << 29, BinningScheme.Bai.MaxPosition);
    }

    [Fact]
    public void BaiBinsAgreeWithTheSpecOnRandomIntervals()
    {
        var random = new Random(17);
        var bins = new List<int>();
        for (int i = 0; i < 20_000; i++)
        {
            long beg = random.NextInt64(0, (1L << 29) - 2);
            long span = random.Next(4) switch { 0 => 1, 1 => random.Next(1, 20_000), 2 => random.Next(1, 2_000_000), _ => random.NextInt64(1, 1L << 29) };
            long end = Math.Min(beg + span, 1L << 29);
            Assert.Equal(SpecReg2Bin(beg, end), BinningScheme.Bai.RegionToBin(beg, end));
            BinningScheme.Bai.RegionToBins(beg, end, bins);
            Assert.Equal(SpecReg2Bins(beg, end), bins);
        }
    }

    [Theory]
    [InlineData(14, 5)]
    [InlineData(14, 6)]
    [InlineData(12, 7)]
    [InlineData(16, 4)]
    public void EveryBinHoldsItsIntervalAndStartsWhereItsLevelSays(int minShift, int depth)
    {
        var scheme = new BinningScheme(minShift, depth);
        var random = new Random(minShift * 31 + depth);
        var bins = new List<int>();
        for (int i = 0; i < 5_000; i++)
        {
            long beg = random.NextInt64(0, scheme.MaxPosition - 1);
            long end = Math.Min(scheme.MaxPosition, beg + 1 + random.NextInt64(0, 1L << random.Next(1, minShift + (3 * depth))));
            int bin = scheme.RegionToBin(beg, end);
            int level = scheme.LevelOf(bin);
            long span = 1L << (minShift + (3 * (depth - level)));
            long start = scheme.BinStart(bin);
            Assert.True(start <= beg && end <= start + span, $"bin {bin} [{start}, {start + span}) does not hold [{beg}, {end})");
            // The smallest such bin: one level deeper, beg and end-1 fall in different bins.
            if (level < depth)
            {
                Assert.NotEqual(beg >> (minShift + (3 * (depth - level - 1))), (end - 1) >> (minShift + (3 * (depth - level - 1))));
            }

            scheme.RegionToBins(beg, end, bins);
            Assert.Contains(bin, bins);
        }
    }
}
