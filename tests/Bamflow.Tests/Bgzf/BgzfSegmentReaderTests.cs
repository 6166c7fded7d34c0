using System.Buffers.Binary;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

/// <summary>
/// <see cref="BgzfSegmentReader"/> against <see cref="BgzfSegmentOracle"/> (blocks found by hand, bytes inflated by
/// System.IO.Compression): whole streams (files and pipes) at several budgets, ranges of virtual positions, and malformed
/// input. Every failure names the file, the budget and the way of reading.
/// </summary>
public sealed class BgzfSegmentReaderTests
{
    private static readonly string[] s_files =
    [
        "hts-specs__level-9.bam",
        "pbbam__long_reads.bam",
        "samtools__ce_large_seq.bam",
        "htslib__bgzf_boundaries3.bam",
        "htsjdk__empty.bam",
        "samtools__xx_minimal.bam",
        "bad/htsjdk__no_bgzf_terminator.bam",
        "bad/samtools__1.quickcheck.badeof.bam",
    ];

    private static readonly int[] s_budgets = [1, 64 << 10, 1 << 20];

    public static TheoryData<string, int, bool> WholeStreamCases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string file in s_files)
        {
            foreach (int budget in s_budgets)
            {
                data.Add(file, budget, false);
                data.Add(file, budget, true);
            }
        }

        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(WholeStreamCases))]
    public void TryRead_WholeStream_SegmentsInflateToTheFileAndKeepTheBudgetRule(string name, int budget, bool pipe)
    {
        byte[] file = File.ReadAllBytes(SharedData.CorpusPath(name));
        var oracle = new BgzfSegmentOracle(file);
        string where = $"{name} @ budget={budget}, {(pipe ? "pipe" : "file")}";
        Stream stream = pipe ? new TrickleStream(file, maxRead: 70_000, seed: budget, firstRead: 7) : new MemoryStream(file);
        using var reader = new BgzfSegmentReader(stream, name);

        List<SegmentCopy> segments = ReadAll(reader, budget);

        Assert.True(oracle.Inflated().AsSpan().SequenceEqual(Concat(segments)), $"{where}: inflated bytes differ");
        Assert.Equal(oracle.Blocks.Select(b => (b.Offset, b.Length, b.InflatedLength)), segments.SelectMany(s => s.Frames).Select(f => (f.CompressedOffset, f.Length, f.InflatedLength)));
        for (int i = 0; i < segments.Count; i++)
        {
            SegmentCopy s = segments[i];
            string at = $"{where}, segment {i}";
            Assert.True((i, i == 0, 0, s.TotalInflatedLength, null) == (s.Sequence, s.StartsRange, s.SkipInflated, s.InflatedLength, s.ReadError), $"{at}: {s}");
            Assert.Equal(s.Frames.Sum(f => f.Length), s.CompressedLength);
            for (int f = 0; f < s.Frames.Length; f++)
            {
                Assert.True(file.AsSpan((int)s.Frames[f].CompressedOffset, s.Frames[f].Length).SequenceEqual(s.FrameBytes[f]), $"{at}: bytes of block {f}");
            }

            AssertBudgetRule(s, budget, last: i == segments.Count - 1, at);
        }

        Assert.True(reader.ReachedEnd, where);
        Assert.Equal(!oracle.EndsWithEofMarker, reader.MissingEofMarker);
        Assert.False(reader.TryRead(new BgzfSegment(), budget), $"{where}: read again after the end");
    }

    [Theory]
    [InlineData(1000, 1)]
    [InlineData(3000, 3)]
    [InlineData(2999, 3)]
    [InlineData(3001, 4)]
    public void TryRead_BudgetAtAndAroundAMultipleOfTheBlocks_SegmentsStopOnceTheyReachIt(int budget, int blocksPerSegment)
    {
        // Twenty blocks of 1000 well-compressed bytes (the inflated bytes reach the budget first): a segment takes blocks
        // until they reach the budget, so a budget of exactly three blocks takes three, one byte more takes four.
        byte[] file = BgzfTestWriter.Compress(Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7)).ToArray(), blockSize: 1000);
        using var reader = new BgzfSegmentReader(new MemoryStream(file));

        List<SegmentCopy> segments = ReadAll(reader, budget);

        Assert.All(segments.SkipLast(1), s => Assert.Equal(blocksPerSegment, s.Frames.Length));
        Assert.Equal(21, segments.Sum(s => s.Frames.Length)); // and the EOF marker
        for (int i = 0; i < segments.Count; i++)
        {
            AssertBudgetRule(segments[i], budget, last: i == segments.Count - 1, $"budget {budget}, segment {i}");
        }
    }

    [CorpusTheory]
    [InlineData("hts-specs__level-9.bam", 1)]
    [InlineData("hts-specs__level-9.bam", 64 << 10)]
    [InlineData("pbbam__long_reads.bam", 1 << 20)]
    public void TryRead_WholeStream_PositionAtMapsEveryOffsetBack(string name, int budget)
    {
        byte[] file = File.ReadAllBytes(SharedData.CorpusPath(name));
        var oracle = new BgzfSegmentOracle(file);
        using var reader = new BgzfSegmentReader(new MemoryStream(file), name);

        int segmentStart = 0;
        foreach (SegmentCopy s in ReadAll(reader, budget, positions: true))
        {
            AssertPositions(oracle, s, segmentStart, $"{name} @ budget={budget}, segment {s.Sequence}");
            segmentStart += s.InflatedLength;
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(3 * 1000, false)] // the budget reached exactly at the EOF marker's block
    public void TryRead_BudgetReachedAtTheLastBlock_LastSegmentEndsRange(int budget, bool pipe)
    {
        // Blocks of 1000 inflated bytes each: with a budget of 3000 the last segment holds blocks 3 and 4 and the EOF
        // marker (2000 bytes and 28 compressed), and is the file's last; with 1 byte, each block is a segment.
        byte[] file = BgzfTestWriter.Compress(Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray(), blockSize: 1000);
        Stream stream = pipe ? new TrickleStream(file, maxRead: 100) : new MemoryStream(file);
        using var reader = new BgzfSegmentReader(stream);

        List<SegmentCopy> segments = ReadAll(reader, budget);

        Assert.Equal(Enumerable.Range(0, segments.Count).Select(i => i == segments.Count - 1), segments.Select(s => s.EndsRange));
    }

    [Fact]
    public void TryRead_FromAFrameReaderAfterAHeader_ContinuesAtItsOffset()
    {
        // The engine's way: a header read by another reader, then the segment reader on from the frame reader's offset.
        byte[] data = Enumerable.Range(0, 200_000).Select(i => (byte)(i % 251)).ToArray();
        byte[] file = BgzfTestWriter.Compress(data, blockSize: 30_000);
        var oracle = new BgzfSegmentOracle(file);
        var frames = new BgzfFrameReader(new MemoryStream(file));
        Assert.True(frames.TryReadFrame(new byte[BgzfFrame.MaxLength], out _));
        using var reader = new BgzfSegmentReader(frames);

        List<SegmentCopy> segments = ReadAll(reader, 50_000);

        Assert.Equal(oracle.Blocks.Skip(1).Select(b => b.Offset), segments.SelectMany(s => s.Frames).Select(f => f.CompressedOffset));
        Assert.True(data.AsSpan(30_000).SequenceEqual(Concat(segments)));
        Assert.False(reader.MissingEofMarker);
    }

    public static TheoryData<string, int, int> RangeCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string file in (string[])["hts-specs__level-9.bam", "pbbam__long_reads.bam", "htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam", "htslib__bgzf_boundaries3.bam"])
        {
            foreach (int budget in (int[])[1, 20_000, 64 << 10, 1 << 20])
            {
                foreach (int seed in (int[])[1, 2, 3])
                {
                    data.Add(file, budget, seed);
                }
            }
        }

        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(RangeCases))]
    public void TryRead_Ranges_EachRangeInflatesToItsSliceOfTheFile(string name, int budget, int seed)
    {
        string path = SharedData.CorpusPath(name);
        byte[] file = File.ReadAllBytes(path);
        var oracle = new BgzfSegmentOracle(file);
        byte[] inflated = oracle.Inflated();
        List<VirtualPosition> recordStarts = RecordStarts(path);
        var random = new Random(seed);
        foreach ((string kind, List<BgzfRange> ranges) in RangeSets(oracle, recordStarts, random))
        {
            string where = $"{name} @ budget={budget}, seed={seed}, {kind}";
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
            using var reader = new BgzfSegmentReader(stream, ranges, name);

            List<SegmentCopy> segments = ReadAll(reader, budget, positions: true);

            List<BgzfRange> read = [.. ranges.Where(r => r.End > r.Start)];
            List<List<SegmentCopy>> groups = GroupByRange(segments);
            Assert.True(read.Count == groups.Count, $"{where}: {groups.Count} ranges read, {read.Count} expected");
            for (int r = 0; r < read.Count; r++)
            {
                BgzfRange range = read[r];
                int start = oracle.InflatedOffset(range.Start), end = oracle.InflatedOffset(range.End);
                string at = $"{where}, range {r} [{range.Start}, {range.End})";
                byte[] got = [.. groups[r].SelectMany(s => s.Inflated.AsSpan(s.SkipInflated, s.InflatedLength).ToArray())];
                Assert.True(inflated.AsSpan(start, end - start).SequenceEqual(got), $"{at}: {got.Length} bytes read, {end - start} expected, or they differ");
                long lastBlock = range.End == BgzfRange.EndOfFile ? long.MaxValue : range.End.CompressedOffset;
                Assert.All(groups[r].SelectMany(s => s.Frames), f => Assert.True(f.CompressedOffset >= range.Start.CompressedOffset && f.CompressedOffset <= lastBlock, $"{at}: block {f.CompressedOffset} outside the range"));
                int offset = start;
                foreach (SegmentCopy s in groups[r])
                {
                    Assert.True(s.ReadError is null, $"{at}: {s.ReadError}");
                    AssertPositions(oracle, s, offset, $"{at}, segment {s.Sequence}");
                    offset += s.InflatedLength;
                }
            }

            Assert.Equal(Enumerable.Range(0, segments.Count).Select(i => (long)i), segments.Select(s => s.Sequence));
            Assert.False(reader.MissingEofMarker, where);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2500)]
    [InlineData(1 << 20)]
    public void TryRead_RangeEndingAtABlockBoundary_ItsLastSegmentEndsRange(int budget)
    {
        // Ten blocks of 1000 bytes; the ranges end where a block starts, so the reader stops before that block.
        byte[] file = BgzfTestWriter.Compress(Enumerable.Range(0, 10_000).Select(i => (byte)(i * 13)).ToArray(), blockSize: 1000);
        var oracle = new BgzfSegmentOracle(file);
        VirtualPosition At(int block, int offset) => new(oracle.Blocks[block].Offset, offset);
        BgzfRange[] ranges = [new(At(0, 500), At(3, 0)), new(At(3, 0), At(5, 0)), new(At(7, 10), At(9, 0))];
        using var reader = new BgzfSegmentReader(new MemoryStream(file), ranges);

        List<List<SegmentCopy>> groups = GroupByRange(ReadAll(reader, budget));

        Assert.Equal(3, groups.Count);
        Assert.All(groups, g => Assert.Equal(Enumerable.Range(0, g.Count).Select(i => i == g.Count - 1), g.Select(s => s.EndsRange)));
    }

    [Fact]
    public void Constructor_RangesOnANonSeekableStream_ThrowsNotSupported()
    {
        byte[] file = BgzfTestWriter.Compress(new byte[1000]);

        Assert.Throws<NotSupportedException>(() => new BgzfSegmentReader(new TrickleStream(file, 100), [BgzfRange.ToEnd(default)]));
    }

    public static TheoryData<string, int, bool> ErrorCases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string damage in (string[])["magic", "bc-subfield", "bsize-too-small", "cut-inside", "isize-too-large"])
        {
            foreach (int budget in (int[])[1, 25_000, 1 << 20])
            {
                data.Add(damage, budget, false);
                data.Add(damage, budget, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void TryRead_MalformedBlockInTheMiddle_SegmentBeforeCarriesTheErrorAndNothingFollows(string damage, int budget, bool pipe)
    {
        const int Bad = 20;
        byte[] data = Enumerable.Range(0, 40 * 10_000).Select(i => (byte)(i * i >> 5)).ToArray();
        byte[] file = BgzfTestWriter.Compress(data, blockSize: 10_000);
        var oracle = new BgzfSegmentOracle(file);
        int bad = (int)oracle.Blocks[Bad].Offset;
        BgzfError expected;
        switch (damage)
        {
            case "magic":
                file[bad + 1] = 0x8c;                                           // ID2
                expected = BgzfError.BadMagic;
                break;
            case "bc-subfield":
                file[bad + 12] = (byte)'X';                                     // SI1
                expected = BgzfError.NotBgzf;
                break;
            case "bsize-too-small":
                BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(bad + 16), 10); // BSIZE: less than header + footer
                expected = BgzfError.BlockSizeOutOfRange;
                break;
            case "isize-too-large":
                BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan((int)oracle.Blocks[Bad].NextOffset - 4), 65537); // ISIZE
                expected = BgzfError.InflatedSizeOutOfRange;
                break;
            default:
                file = file[..(bad + 100)];
                expected = BgzfError.Truncated;
                break;
        }

        string where = $"{damage} @ budget={budget}, {(pipe ? "pipe" : "file")}";
        Stream stream = pipe ? new TrickleStream(file, maxRead: 3000, seed: budget) : new MemoryStream(file);
        using var reader = new BgzfSegmentReader(stream, "bad.bam");

        List<SegmentCopy> segments = ReadAll(reader, budget);

        Assert.True(segments.Count > 0, where);
        Assert.All(segments.SkipLast(1), s => Assert.True(s.ReadError is null, $"{where}: segment {s.Sequence} has {s.ReadError}"));
        var error = Assert.IsType<BgzfFormatException>(segments[^1].ReadError);
        Assert.True((expected, (long?)bad, "bad.bam") == (error.Error, error.CompressedOffset, error.FileName), $"{where}: {error.Error} at {error.CompressedOffset}");
        Assert.Equal(oracle.Blocks.Take(Bad).Select(b => b.Offset), segments.SelectMany(s => s.Frames).Select(f => f.CompressedOffset));
        Assert.True(data.AsSpan(0, Bad * 10_000).SequenceEqual(Concat(segments)), where);
        Assert.True(segments[^1].EndsRange, where);
        Assert.False(reader.TryRead(new BgzfSegment(), budget), $"{where}: read on after the error");
        Assert.False(reader.MissingEofMarker, where);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(25_000)]
    public void TryRead_RangesReachingAMalformedBlock_StopsThereWithTheError(int budget)
    {
        byte[] file = BgzfTestWriter.Compress(Enumerable.Range(0, 100_000).Select(i => (byte)(i * 3)).ToArray(), blockSize: 10_000);
        var oracle = new BgzfSegmentOracle(file);
        long bad = oracle.Blocks[6].Offset;
        file[bad] = 0;                                                          // ID1
        VirtualPosition At(int block, int offset) => new(oracle.Blocks[block].Offset, offset);
        BgzfRange[] ranges = [new(At(1, 5), At(2, 7)), new(At(4, 0), At(8, 0)), new(At(8, 0), At(9, 0))];
        using var reader = new BgzfSegmentReader(new MemoryStream(file), ranges, "bad.bam");

        List<SegmentCopy> segments = ReadAll(reader, budget);

        Assert.All(segments.SkipLast(1), s => Assert.Null(s.ReadError));
        var error = Assert.IsType<BgzfFormatException>(segments[^1].ReadError);
        Assert.Equal((BgzfError.BadMagic, (long?)bad), (error.Error, error.CompressedOffset));
        Assert.Equal([oracle.Blocks[1].Offset, oracle.Blocks[2].Offset, oracle.Blocks[4].Offset, oracle.Blocks[5].Offset], segments.SelectMany(s => s.Frames).Select(f => f.CompressedOffset));
    }

    [CorpusTheory]
    [InlineData(1)]
    [InlineData(64 << 10)]
    [InlineData(1 << 20)]
    public void TryRead_CorpusFileCutInsideABlock_TruncatedAtThatBlockAfterAllBlocksBefore(int budget)
    {
        const string Name = "bad/htsjdk__truncated.bam";
        byte[] file = File.ReadAllBytes(SharedData.CorpusPath(Name));
        var oracle = new BgzfSegmentOracle(file);
        long cut = oracle.Blocks[^1].NextOffset; // the oracle stops at the block the file ends inside
        Assert.True(cut < file.Length);
        using var reader = new BgzfSegmentReader(new MemoryStream(file), Name);

        List<SegmentCopy> segments = ReadAll(reader, budget);

        var error = Assert.IsType<BgzfFormatException>(segments[^1].ReadError);
        Assert.Equal((BgzfError.Truncated, (long?)cut), (error.Error, error.CompressedOffset));
        Assert.True(oracle.Inflated().AsSpan(0, oracle.InflatedLength).SequenceEqual(Concat(segments)));
        Assert.All(segments.SkipLast(1), s => Assert.Null(s.ReadError));
    }

    /// <summary>SAMv1 §4.1.1 budget rule: blocks are added while their inflated and compressed bytes are both below the budget.</summary>
    private static void AssertBudgetRule(SegmentCopy s, int budget, bool last, string at)
    {
        Assert.True(s.Frames.Length > 0, $"{at}: empty segment");
        int inflatedBefore = s.TotalInflatedLength - s.Frames[^1].InflatedLength, compressedBefore = s.CompressedLength - s.Frames[^1].Length;
        Assert.True(inflatedBefore < budget && compressedBefore < budget, $"{at}: the blocks before its last already reach the budget ({inflatedBefore}, {compressedBefore})");
        Assert.True(last || s.TotalInflatedLength >= budget || s.CompressedLength >= budget, $"{at}: below the budget but not the last ({s.TotalInflatedLength}, {s.CompressedLength})");
    }

    /// <summary>Each offset of the segment maps to the byte it is: a position naming a byte of its block, at the right inflated offset.</summary>
    private static void AssertPositions(BgzfSegmentOracle oracle, SegmentCopy s, int segmentStart, string at)
    {
        Assert.True(s.Positions.Length == s.InflatedLength, $"{at}: positions not kept");
        for (int o = 0; o < s.InflatedLength; o++)
        {
            VirtualPosition position = s.Positions[o];
            BgzfSegmentOracle.Block block = oracle.BlockAt(position.CompressedOffset);
            if (position.BlockOffset >= block.InflatedLength || oracle.InflatedOffset(position) != segmentStart + o)
            {
                Assert.Fail($"{at}: offset {o} maps to {position}, in a block of {block.InflatedLength} bytes at inflated {block.InflatedStart}; expected inflated {segmentStart + o}");
            }
        }
    }

    /// <summary>Every record start of a BAM file by <see cref="Bamflow.Bam.BamReader"/> (and the position after the last record).</summary>
    private static List<VirtualPosition> RecordStarts(string path)
    {
        using var reader = Bamflow.Bam.BamReader.Open(path);
        var starts = new List<VirtualPosition> { reader.Position };
        while (reader.TryReadBytes(out _))
        {
            starts.Add(reader.Position);
        }

        return starts;
    }

    /// <summary>Sets of ranges, each in order: the whole file, record ranges with gaps, adjacent and empty ones, in-block ones, and the same backwards.</summary>
    private static IEnumerable<(string Kind, List<BgzfRange> Ranges)> RangeSets(BgzfSegmentOracle oracle, List<VirtualPosition> recordStarts, Random random)
    {
        yield return ("whole file", [BgzfRange.ToEnd(default)]);
        yield return ("records to the end", [new(recordStarts[0], BgzfRange.EndOfFile)]);

        var points = new SortedSet<ulong>();
        for (int i = 0; i < 12; i++)
        {
            points.Add(recordStarts[random.Next(recordStarts.Count)].Value);
            points.Add(oracle.RandomPosition(random).Value);
        }

        VirtualPosition[] sorted = [.. points.Select(v => new VirtualPosition(v))];
        var mixed = new List<BgzfRange>();
        for (int i = 0; i + 1 < sorted.Length; i++)
        {
            switch (random.Next(4))
            {
                case 0: break;                                                          // a gap
                case 1: mixed.Add(new(sorted[i], sorted[i])); goto default;             // an empty range, then the next
                case 2: mixed.Add(new(sorted[i + 1], sorted[i])); goto default;          // an inverted one: empty too
                default: mixed.Add(new(sorted[i], sorted[i + 1])); break;               // adjacent to the one before
            }
        }

        mixed.Add(new(sorted[^1], BgzfRange.EndOfFile));
        yield return ("mixed", mixed);

        // Start and end inside one block, several in a row of the same block.
        BgzfSegmentOracle.Block block = oracle.Blocks.Where(b => b.InflatedLength > 1).OrderBy(_ => random.Next()).First();
        int[] cuts = [.. Enumerable.Range(0, 6).Select(_ => random.Next(block.InflatedLength)).Distinct().Order()];
        yield return ("in one block", [.. cuts.Zip(cuts.Skip(1), (a, b) => new BgzfRange(new(block.Offset, a), new(block.Offset, b)))]);

        List<BgzfRange> backwards = [.. mixed];
        backwards.Reverse();
        yield return ("mixed backwards", backwards);
    }

    /// <summary>Segments grouped by range: a new group at each segment that starts a range.</summary>
    private static List<List<SegmentCopy>> GroupByRange(List<SegmentCopy> segments)
    {
        var groups = new List<List<SegmentCopy>>();
        foreach (SegmentCopy s in segments)
        {
            if (s.StartsRange || groups.Count == 0)
            {
                groups.Add([]);
            }

            groups[^1].Add(s);
        }

        return groups;
    }

    private static byte[] Concat(List<SegmentCopy> segments) => [.. segments.SelectMany(s => s.Inflated.AsSpan(s.SkipInflated, s.InflatedLength).ToArray())];

    /// <summary>Reads every segment, with three segments in turn as a consumer would, inflating and releasing each.</summary>
    internal static List<SegmentCopy> ReadAll(BgzfSegmentReader reader, int budget, bool positions = false)
    {
        BgzfSegment[] slots = [new(), new(), new()];
        using IBgzfInflater inflater = BgzfInflater.Create();
        var copies = new List<SegmentCopy>();
        for (int i = 0; ; i++)
        {
            BgzfSegment segment = slots[i % slots.Length];
            if (!reader.TryRead(segment, budget))
            {
                Assert.Equal(0, segment.FrameCount);
                return copies;
            }

            copies.Add(SegmentCopy.Of(segment, inflater, positions));
            Assert.True(copies.Count < 1_000_000, "the reader does not end");
        }
    }

    /// <summary>What a segment held, copied out (its inflated bytes by <see cref="BgzfSegment.InflateFrame"/>).</summary>
    internal sealed record SegmentCopy(long Sequence, bool StartsRange, bool EndsRange, Exception? ReadError, int SkipInflated, int InflatedLength,
        int TotalInflatedLength, int CompressedLength, BgzfFrame[] Frames, byte[][] FrameBytes, byte[] Inflated, VirtualPosition[] Positions)
    {
        public static SegmentCopy Of(BgzfSegment s, IBgzfInflater inflater, bool withPositions)
        {
            BgzfFrame[] frames = [.. Enumerable.Range(0, s.FrameCount).Select(s.Frame)];
            byte[][] frameBytes = [.. Enumerable.Range(0, s.FrameCount).Select(i => s.FrameBytes(i).ToArray())];
            byte[] inflated = new byte[s.TotalInflatedLength];
            for (int i = 0; i < s.FrameCount; i++)
            {
                Assert.Equal(frames.Take(i).Sum(f => f.InflatedLength), s.InflatedStart(i));
                Assert.Equal(frames[i].InflatedLength, s.InflateFrame(i, inflater, inflated.AsSpan(s.InflatedStart(i))));
            }

            // As the engine does: the compressed bytes go back once inflated; PositionAt still works from the block list.
            s.ReleaseCompressed();
            VirtualPosition[] positions = [];
            if (withPositions)
            {
                positions = new VirtualPosition[s.InflatedLength];
                int hint = 0;
                for (int o = 0; o < positions.Length; o++)
                {
                    positions[o] = s.PositionAt(o, ref hint);
                }

                // A hint past the byte's block, or none, gives the same position.
                var random = new Random(positions.Length);
                for (int k = 0; k < Math.Min(200, positions.Length); k++)
                {
                    int o = random.Next(positions.Length), other = random.Next(s.FrameCount + 2) - 1;
                    Assert.Equal(positions[o], s.PositionAt(o, ref other));
                }
            }

            return new SegmentCopy(s.Sequence, s.StartsRange, s.EndsRange, s.ReadError, s.SkipInflated, s.InflatedLength, s.TotalInflatedLength,
                s.CompressedLength, frames, frameBytes, inflated, positions);
        }
    }
}
