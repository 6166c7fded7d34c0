using System.Buffers.Binary;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bam;

/// <summary>
/// <see cref="BamRecordJoiner"/> used as the engine's source uses it (segments from a <see cref="BgzfSegmentReader"/>,
/// inflated after the joiner's reserve, record starts walked beforehand or not), against <see cref="BamReader"/> as the
/// oracle: the same records (bytes and virtual positions) in the same order, and the same error at the end, whatever the
/// segments' sizes and wherever their ends cut the records.
/// </summary>
public sealed class BamRecordJoinerTests
{
    private static readonly LargeBam s_sample = new(400_000);

    public static TheoryData<string, int, bool> CorpusCases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string file in (string[])["hts-specs__level-9.bam", "pbbam__long_reads.bam", "samtools__ce_large_seq.bam", "htslib__bgzf_boundaries3.bam",
            "BioFmtSpecimens__cigar-64k.bam", "modkit__ecoli_reg.sorted.bam", "picard__sample_mc.bam", "htsjdk__empty.bam", "samtools__xx_minimal.bam", "bad/htsjdk__truncated.bam"])
        {
            foreach (int budget in (int[])[1, 64 << 10, 1 << 20])
            {
                data.Add(file, budget, false);
                data.Add(file, budget, true);
            }
        }

        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(CorpusCases))]
    public void Join_CorpusFileInSegments_RecordsAsBamReaderReadsThem(string name, int budget, bool walkAhead)
    {
        byte[] file = File.ReadAllBytes(SharedData.CorpusPath(name));

        AssertSameAsReader(file, budget, walkAhead, $"{name} @ budget={budget}, walk ahead={walkAhead}");
    }

    public static TheoryData<string, int, bool> ReblockedCases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string file in (string[])["samtools__mpileup.1.bam", "pbbam__group_test3.bam", "htsjdk__NA12878.m64020_190210_035026.chr21.5011316.5411316.unmapped.bam", "samtools__ce_large_seq.bam"])
        {
            foreach (int budget in (int[])[1, 3000])
            {
                data.Add(file, budget, false);
                data.Add(file, budget, true);
            }
        }

        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(ReblockedCases))]
    public void Join_CorpusRecordsInBlocksCutAnywhere_RecordsAsBamReaderReadsThem(string name, int budget, bool walkAhead)
    {
        // The file's inflated bytes again in blocks of random sizes (1 byte to 4 KB), some ending 1, 2 or 3 bytes into a
        // record's block_size: segments far smaller than a record, cut anywhere.
        byte[] inflated = LargeBam.Inflate(File.ReadAllBytes(SharedData.CorpusPath(name)));
        byte[] file = Reblock(inflated, RecordStarts(inflated), new Random(inflated.Length), maxBlock: 4000);

        AssertSameAsReader(file, budget, walkAhead, $"{name} re-blocked @ budget={budget}, walk ahead={walkAhead}");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(200_000, false)]
    [InlineData(200_000, true)]
    [InlineData(8 << 20, true)]
    public void Join_RecordOf3MBAmongShortOnes_RecordsAsBamReaderReadsThem(int budget, bool walkAhead)
    {
        // A 3 MB record (1 Mb of sequence with qualities) between short ones: with blocks of 64 KiB (budget 1: one block a
        // segment) it spans some fifty segments; a second, re-blocked copy cuts it into blocks of up to 20 KB.
        byte[] inflated = WithLongRecord(1_000_000);
        AssertSameAsReader(BgzfTestWriter.Compress(inflated), budget, walkAhead, $"3 MB record @ budget={budget}, walk ahead={walkAhead}");
        byte[] reblocked = Reblock(inflated, RecordStarts(inflated), new Random(3), maxBlock: 20_000);
        AssertSameAsReader(reblocked, budget, walkAhead, $"3 MB record re-blocked @ budget={budget}, walk ahead={walkAhead}");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(5000, true)]
    [InlineData(1 << 20, false)]
    public void Finish_InputCutInsideARecord_TruncatedAtThatRecordAsBamReaderSays(int budget, bool walkAhead)
    {
        byte[] inflated = s_sample.Inflated();
        int index = s_sample.RecordCount / 2;
        int start = s_sample.RecordOffset(index), size = BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(start));
        foreach (int into in (int[])[1, 2, 3, 4, 5, 40, size + 3])
        {
            byte[] file = Reblock(inflated[..(start + into)], RecordStarts(inflated), new Random(into), maxBlock: 3000);

            Outcome outcome = AssertSameAsReader(file, budget, walkAhead, $"cut {into} bytes into record {index} @ budget={budget}, walk ahead={walkAhead}");

            var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
            Assert.Equal((BamRecordError.Truncated, (long)index), (error.Error, error.RecordIndex));
        }
    }

    [Fact]
    public void Finish_InputEndsAfterAWholeRecord_Null()
    {
        byte[] inflated = s_sample.Inflated();
        byte[] file = BgzfTestWriter.Compress(inflated[..s_sample.RecordOffset(100)], blockSize: 1000);

        Outcome outcome = AssertSameAsReader(file, 1, walkAhead: true, "cut after record 99");

        Assert.Null(outcome.Error);
        Assert.Equal(100, outcome.Records.Count);
    }

    [Theory]
    [InlineData(0u, 1, false)]
    [InlineData(0u, 1, true)]
    [InlineData(0u, 1 << 20, true)]
    [InlineData(0x04000001u, 1, false)] // one byte over the 64 MiB default limit
    [InlineData(0x04000001u, 1, true)]
    [InlineData(0xFFFFFFFFu, 7000, true)] // -1: too small
    [InlineData(32u, 1, true)]          // one byte below the fixed fields and a name
    public void Join_BlockSizeOutOfRange_FramingErrorNamingTheRecordAsBamReaderSays(uint blockSize, int budget, bool walkAhead)
    {
        int index = s_sample.RecordCount - 7;
        byte[] inflated = s_sample.Inflated(index, blockSize);
        foreach (int seed in (int[])[1, 2, 3])
        {
            byte[] file = Reblock(inflated, RecordStarts(inflated[..s_sample.RecordOffset(index)]), new Random(seed), maxBlock: 2000);

            Outcome outcome = AssertSameAsReader(file, budget, walkAhead, $"block_size {blockSize} @ budget={budget}, walk ahead={walkAhead}, seed {seed}");

            var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
            BamRecordError expected = (int)blockSize < BamRecordFraming.MinBlockSize ? BamRecordError.BlockSizeTooSmall : BamRecordError.BlockSizeTooLarge;
            Assert.Equal((expected, (long)index), (error.Error, error.RecordIndex));
        }
    }

    [Fact]
    public void Join_MaxRecordSizeBelowALongRecord_TooLargeAtThatRecord()
    {
        byte[] inflated = WithLongRecord(100_000);
        byte[] file = BgzfTestWriter.Compress(inflated, blockSize: 10_000);

        Outcome outcome = AssertSameAsReader(file, 1, walkAhead: true, "limit 150 kB", maxRecordSize: 150_000);

        var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
        Assert.Equal(BamRecordError.BlockSizeTooLarge, error.Error);
    }

    /// <summary>Joins <paramref name="file"/> and reads it with <see cref="BamReader"/>: the same records and the same error.</summary>
    private static Outcome AssertSameAsReader(byte[] file, int budget, bool walkAhead, string where, int maxRecordSize = BamRecordFraming.DefaultMaxRecordSize)
    {
        Outcome expected = ReadWithBamReader(file, maxRecordSize);
        Outcome actual = Join(file, budget, walkAhead, maxRecordSize);

        for (int i = 0; i < Math.Min(expected.Records.Count, actual.Records.Count); i++)
        {
            (byte[] bytes, VirtualPosition position) = expected.Records[i];
            if (position != actual.Records[i].Position || !bytes.AsSpan().SequenceEqual(actual.Records[i].Bytes))
            {
                Assert.Fail($"{where}: record {i} differs: at {actual.Records[i].Position} ({actual.Records[i].Bytes.Length} bytes), expected {position} ({bytes.Length} bytes)");
            }
        }

        Assert.True(expected.Records.Count == actual.Records.Count, $"{where}: {actual.Records.Count} records, expected {expected.Records.Count} (error {actual.Error?.Message}, expected {expected.Error?.Message})");
        Assert.True(Describe(expected.Error) == Describe(actual.Error), $"{where}: error {Describe(actual.Error)}, expected {Describe(expected.Error)}");
        return actual;
    }

    /// <summary>What a test compares of an error: its type and properties.</summary>
    private static string Describe(Exception? e) => e switch
    {
        null => "none",
        BamRecordFormatException r => $"record {r.Error} #{r.RecordIndex} at {r.Position}",
        BgzfFormatException b => $"bgzf {b.Error} at {b.CompressedOffset}",
        _ => e.GetType().Name + ": " + e.Message,
    };

    private sealed record Outcome(List<(byte[] Bytes, VirtualPosition Position)> Records, Exception? Error);

    /// <summary>The oracle: each record's bytes and <see cref="BamReader.Position"/> before it, then its error if any.</summary>
    private static Outcome ReadWithBamReader(byte[] file, int maxRecordSize)
    {
        var records = new List<(byte[], VirtualPosition)>();
        try
        {
            using var reader = new BamReader(new MemoryStream(file), "joined.bam") { MaxRecordSize = maxRecordSize };
            while (true)
            {
                VirtualPosition position = reader.Position;
                if (!reader.TryReadBytes(out ReadOnlySpan<byte> data))
                {
                    return new Outcome(records, null);
                }

                records.Add((data.ToArray(), position));
            }
        }
        catch (BamFormatException e)
        {
            return new Outcome(records, e);
        }
    }

    /// <summary>
    /// As the engine's source does: the header by a <see cref="BamReader"/>, its body's segments inflated after the
    /// joiner's reserve (walked ahead with <see cref="BamRecordFramer.Walk"/>, or not: an empty walk ending at the
    /// reserve), joined in order; <see cref="BamRecordJoiner.Finish"/> at the end.
    /// </summary>
    private static Outcome Join(byte[] file, int budget, bool walkAhead, int maxRecordSize)
    {
        var records = new List<(byte[], VirtualPosition)>();
        using var reader = new BamReader(new MemoryStream(file), "joined.bam") { MaxRecordSize = maxRecordSize };
        BgzfRemainder body = reader.DetachBody();
        using var segments = new BgzfSegmentReader(body.Frames, body.LastFrameWasEofMarker);
        using var joiner = new BamRecordJoiner(maxRecordSize, 1 << 20, "joined.bam", body.Buffered, body.BufferedPosition);
        using IBgzfInflater inflater = BgzfInflater.Create();
        var segment = new BgzfSegment();
        var walked = new RecordStarts();
        var starts = new RecordStarts();
        for (bool first = true; ; first = false)
        {
            bool read = segments.TryRead(segment, budget);
            if (!read && !first)
            {
                return new Outcome(records, joiner.Finish());
            }

            int reserve = joiner.Reserve;
            byte[] data = new byte[reserve + segment.TotalInflatedLength];
            int length = 0;
            Exception? error = null;
            for (int i = 0; i < segment.FrameCount; i++)
            {
                try
                {
                    length += segment.InflateFrame(i, inflater, data.AsSpan(reserve + length), "joined.bam");
                }
                catch (BamFormatException e)
                {
                    error = e;
                    break;
                }
            }

            error ??= segment.ReadError;
            segment.ReleaseCompressed();
            walked.Clear();
            int walkedEnd = reserve;
            bool invalid = false;
            if (walkAhead)
            {
                walkedEnd = BamRecordFramer.Walk(data.AsSpan(0, reserve + length), reserve, maxRecordSize, walked, out invalid);
            }

            BamRecordJoiner.JoinResult result = joiner.Join(ref data, ref reserve, length, segment, walked, walkedEnd, invalid, starts, error);
            int hint = 0;
            for (int i = 0; i < starts.Count; i++)
            {
                int start = starts[i], size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(start));
                Assert.True(start >= result.Begin && start + 4 + size <= result.End, $"record {records.Count} at {start} outside [{result.Begin}, {result.End})");
                records.Add((data.AsSpan(start + 4, size).ToArray(), result.Positions.At(start, ref hint)));
            }

            Assert.Equal(joiner.RecordsFramed, records.Count);
            if (result.Fault is not null)
            {
                return new Outcome(records, result.Fault);
            }

            if (!read || segment.ReadError is not null)
            {
                return new Outcome(records, joiner.Finish());
            }
        }
    }

    /// <summary>Where each record starts in inflated BAM bytes (walked from the header's end, SAMv1 §4.2), up to the last whole one.</summary>
    private static List<int> RecordStarts(byte[] inflated)
    {
        int p = 8 + BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(4));
        int references = BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(p));
        p += 4;
        for (int i = 0; i < references; i++)
        {
            p += 4 + BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(p)) + 4;
        }

        var starts = new List<int>();
        while (p + 4 <= inflated.Length)
        {
            starts.Add(p);
            p += 4 + BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(p));
        }

        return starts;
    }

    /// <summary>
    /// BGZF of <paramref name="inflated"/> in blocks of 1 to <paramref name="maxBlock"/> bytes, and some cut 1, 2 or 3 bytes
    /// into a record's block_size, with the EOF marker.
    /// </summary>
    private static byte[] Reblock(byte[] inflated, List<int> recordStarts, Random random, int maxBlock)
    {
        var cuts = new SortedSet<int>();
        for (int p = 0; p < inflated.Length; p += random.Next(1, maxBlock + 1))
        {
            cuts.Add(p);
        }

        foreach (int start in recordStarts.Where(_ => random.Next(3) == 0))
        {
            cuts.Add(start + random.Next(1, 4));
        }

        cuts.Add(inflated.Length);
        var output = new MemoryStream();
        int from = 0;
        foreach (int cut in cuts.Where(c => c > 0 && c <= inflated.Length))
        {
            for (int at = from; at < cut; at += BgzfFrame.MaxInflatedSize - 256)
            {
                output.Write(BgzfTestWriter.Block(inflated.AsSpan(at, Math.Min(BgzfFrame.MaxInflatedSize - 256, cut - at))));
            }

            from = cut;
        }

        output.Write(BgzfTestWriter.EofBlock);
        return output.ToArray();
    }

    /// <summary>The sample's inflated BAM with a valid unmapped record of <paramref name="length"/> bases (all A, qualities 30) after its 100th record.</summary>
    private static byte[] WithLongRecord(int length)
    {
        byte[] r = LongRecords.Unmapped(length);
        byte[] sample = s_sample.Inflated();
        int split = s_sample.RecordOffset(100);
        return [.. sample.AsSpan(0, split), .. r, .. sample.AsSpan(split)];
    }
}
