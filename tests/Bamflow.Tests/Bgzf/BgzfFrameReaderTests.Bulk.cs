using System.Buffers.Binary;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bgzf;

/// <summary>
/// Bulk reading (<see cref="BgzfFrameReader.ReadAhead"/> + <see cref="BgzfFrameReader.TryTakeFrame"/>) against the
/// per-block <see cref="BgzfFrameReader.TryReadFrame"/> as the oracle: the same frames with the same bytes, or the same
/// error (kind, offset, file, message) after the same frames, wherever reads and buffer ends cut the blocks.
/// </summary>
public sealed partial class BgzfFrameReaderTests
{
    /// <summary>Small blocks of every shape (empty, an extra subfield before BC, incompressible) and the EOF marker.</summary>
    private static byte[] SmallBlocksFile()
    {
        byte[] withSubfield = BgzfTestWriter.Block("sub"u8);
        // A 4-byte foreign subfield ('X','Y', SLEN=0) before BC: XLEN 6 → 10, BSIZE + 4.
        withSubfield = [.. withSubfield[..12], (byte)'X', (byte)'Y', 0, 0, .. withSubfield[12..]];
        BinaryPrimitives.WriteUInt16LittleEndian(withSubfield.AsSpan(10), 10);
        BinaryPrimitives.WriteUInt16LittleEndian(withSubfield.AsSpan(20), (ushort)(withSubfield.Length - 1));
        byte[] noise = new byte[40];
        new Random(4).NextBytes(noise);
        return [.. BgzfTestWriter.Block("first"u8), .. BgzfTestWriter.Block(""u8), .. withSubfield, .. BgzfTestWriter.Block(noise), .. BgzfTestWriter.EofBlock];
    }

    [Fact]
    public void TryTakeFrame_ReadBoundaryAtEveryByte_MatchesTryReadFrame()
    {
        byte[] file = SmallBlocksFile();
        Run expected = ReadAll(new MemoryStream(file));
        int largest = expected.Frames.Max(f => f.Frame.Length);
        foreach (int bufferLength in new[] { largest, largest + 13, 4096 })
        {
            foreach (int readLength in new[] { 1, 64, 4096 })
            {
                for (int first = 1; first <= file.Length; first++)
                {
                    var stream = new TrickleStream(file, maxRead: 7, seed: first, firstRead: first);
                    AssertSame(expected, TakeAll(stream, bufferLength, readLength), $"first read {first}, buffer {bufferLength}, reads of {readLength}");
                }
            }
        }
    }

    [Fact]
    public void TryTakeFrame_CutAtEveryByte_MatchesTryReadFrame()
    {
        byte[] file = SmallBlocksFile();
        for (int cut = 0; cut <= file.Length; cut++)
        {
            byte[] input = file[..cut];
            Run expected = ReadAll(new MemoryStream(input));
            Assert.True(cut == file.Length || (expected.Error is { Error: BgzfError.Truncated } || expected.Frames.Sum(f => f.Frame.Length) == cut), $"cut {cut}: {expected.Error}");
            AssertSame(expected, TakeAll(new MemoryStream(input), 4096, 4096), $"cut {cut}, one read");
            AssertSame(expected, TakeAll(new TrickleStream(input, maxRead: 5, seed: cut), 100, 1), $"cut {cut}, reads of 1-5 bytes");
        }
    }

    [Fact]
    public void TryTakeFrame_HostileByteAtEveryPosition_MatchesTryReadFrame()
    {
        byte[] file = SmallBlocksFile();
        var errors = new HashSet<BgzfError>();
        for (int position = 0; position < file.Length; position++)
        {
            foreach (byte value in new byte[] { 0x00, 0xff, (byte)(file[position] ^ 0x01), (byte)(file[position] ^ 0x80) })
            {
                byte[] input = (byte[])file.Clone();
                input[position] = value;
                Run expected = ReadAll(new MemoryStream(input));
                if (expected.Error is { } error)
                {
                    errors.Add(error.Error);
                }

                string context = $"byte {position} = {value:x2}";
                AssertSame(expected, TakeAll(new MemoryStream(input), 1 << 16, 4096), $"{context}, one read"); // BSIZE may now claim 64 KiB
                AssertSame(expected, TakeAll(new TrickleStream(input, maxRead: 3, seed: position), 1 << 16, 1), $"{context}, reads of 1-3 bytes");
            }
        }

        // The mutations reach every check the frame reader makes (CRCs and DEFLATE are the inflater's).
        Assert.Superset(new HashSet<BgzfError> { BgzfError.BadMagic, BgzfError.NotBgzf, BgzfError.BlockSizeOutOfRange, BgzfError.InflatedSizeOutOfRange, BgzfError.Truncated }, errors);
    }

    [Theory]
    [InlineData("sample.bam")]
    [InlineData("edge-cases.bam")]
    public void TryTakeFrame_FixtureInPipeSizedReads_MatchesTryReadFrame(string name)
    {
        byte[] file = File.ReadAllBytes(Conversion.Fixture(name));
        Run expected = ReadAll(new MemoryStream(file));
        Assert.Null(expected.Error);
        foreach (int maxRead in new[] { 1000, 65536, 1 << 20 })
        {
            // A group's buffer (32 maximal blocks), and one maximal block: then nearly every block is carried over.
            foreach (int bufferLength in new[] { 32 * BgzfFrame.MaxLength, BgzfFrame.MaxLength })
            {
                AssertSame(expected, TakeAll(new TrickleStream(file, maxRead, seed: maxRead), bufferLength, 1 << 20), $"{name}: reads of 1-{maxRead}, buffer {bufferLength}");
            }
        }
    }

    [Fact]
    public void TryTakeFrame_IncompressibleMaximalBlocks_MatchesTryReadFrame()
    {
        byte[] data = new byte[5 * 65280];
        new Random(9).NextBytes(data);
        byte[] file = BgzfTestWriter.Compress(data);
        Run expected = ReadAll(new MemoryStream(file));
        Assert.True(expected.Frames[0].Frame.Length > 65280, "the blocks are stored, near 64 KiB");
        AssertSame(expected, TakeAll(new TrickleStream(file, maxRead: 70000), BgzfFrame.MaxLength, BgzfFrame.MaxLength), "buffer of one block");
        AssertSame(expected, TakeAll(new MemoryStream(file), 32 * BgzfFrame.MaxLength, 100_000), "buffer of 32 blocks");
    }

    [Fact]
    public void TryTakeFrame_AfterTryReadFrameThroughAFileStream_ContinuesAtTheNextBlock()
    {
        byte[] file = File.ReadAllBytes(Conversion.Fixture("sample.bam"));
        Run expected = ReadAll(new MemoryStream(file));
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, file);
            // As the engine does: the header's block read one by one through a buffered FileStream, then bulk reads.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            using var reader = new BgzfFrameReader(stream, "sample.bam");
            Assert.True(reader.TryReadFrame(s_frame, out BgzfFrame first));
            Run rest = TakeAll(reader, 32 * BgzfFrame.MaxLength, 1 << 20);

            AssertSame(expected, rest with { Frames = [(first, s_frame[..first.Length]), .. rest.Frames] }, "after the first block");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TryReadFrame_BytesReadAheadNotTaken_ThrowsInvalidOperation()
    {
        using var reader = new BgzfFrameReader(new MemoryStream(SmallBlocksFile()));
        byte[] buffer = new byte[4096];

        Assert.Equal(100, reader.ReadAhead(buffer.AsSpan(0, 100), 100));
        Assert.Throws<InvalidOperationException>(() => reader.TryReadFrame(s_frame, out _));
        Assert.Throws<ArgumentException>(() => reader.TryTakeFrame(buffer.AsSpan(0, 99), out _, out _));
    }

    [Fact]
    public void TryTakeFrame_HalfABlock_AsksForTheRestThenTakesIt()
    {
        byte[] block = BgzfTestWriter.Block("hello"u8);
        using var reader = new BgzfFrameReader(new MemoryStream([.. block, .. BgzfTestWriter.EofBlock]), startOffset: 1000);
        byte[] buffer = new byte[4096];

        int got = reader.ReadAhead(buffer.AsSpan(0, 5), 5);
        Assert.False(reader.TryTakeFrame(buffer.AsSpan(0, got), out _, out int missing));
        Assert.Equal(BgzfFrame.FixedHeaderLength - 5, missing);      // the fixed header first
        got += reader.ReadAhead(buffer.AsSpan(got, 10), 10);
        Assert.False(reader.TryTakeFrame(buffer.AsSpan(0, got), out _, out missing));
        Assert.Equal(18 - 15, missing);                              // then the extra field (XLEN = 6)
        got += reader.ReadAhead(buffer.AsSpan(got), 1);
        Assert.True(reader.TryTakeFrame(buffer.AsSpan(0, got), out BgzfFrame frame, out _));
        Assert.Equal((1000L, block.Length, 5), (frame.CompressedOffset, frame.Length, frame.InflatedLength));
        Assert.Equal(1000 + block.Length, reader.CompressedOffset);
        Assert.True(reader.TryTakeFrame(buffer.AsSpan(block.Length, got - block.Length), out BgzfFrame eof, out _));
        Assert.True(eof.IsEofMarker);
        Assert.False(reader.TryTakeFrame(default, out _, out missing));
        Assert.Equal(BgzfFrame.FixedHeaderLength, missing);           // the stream has not said it ended yet
        Assert.Equal(0, reader.ReadAhead(buffer, missing));
        Assert.False(reader.TryTakeFrame(default, out _, out missing));
        Assert.Equal(0, missing);                                     // a clean end
    }

    /// <summary>What reading a whole input gave: the frames and their bytes, then the error (if any) and the final offset.</summary>
    private sealed record Run(List<(BgzfFrame Frame, byte[] Bytes)> Frames, BgzfFormatException? Error, long EndOffset);

    /// <summary>The oracle: one block at a time.</summary>
    private static Run ReadAll(Stream stream)
    {
        using var reader = new BgzfFrameReader(stream, "input.bam");
        var frames = new List<(BgzfFrame, byte[])>();
        try
        {
            while (reader.TryReadFrame(s_frame, out BgzfFrame frame))
            {
                frames.Add((frame, s_frame[..frame.Length]));
            }
        }
        catch (BgzfFormatException e)
        {
            return new Run(frames, e, -1);
        }

        return new Run(frames, null, reader.CompressedOffset);
    }

    private static Run TakeAll(Stream stream, int bufferLength, int readLength)
    {
        using var reader = new BgzfFrameReader(stream, "input.bam");
        return TakeAll(reader, bufferLength, readLength);
    }

    /// <summary>
    /// Bulk reading as the parallel engine does it: reads of <paramref name="readLength"/> bytes (or what the frame
    /// still misses) into a buffer of <paramref name="bufferLength"/>, frames found in place, and when the buffer has no
    /// room for the rest of a frame, the bytes after the last frame moved to its start (as into the next group).
    /// </summary>
    private static Run TakeAll(BgzfFrameReader reader, int bufferLength, int readLength)
    {
        byte[] buffer = new byte[bufferLength];
        int start = 0, filled = 0;
        var frames = new List<(BgzfFrame, byte[])>();
        try
        {
            while (true)
            {
                if (reader.TryTakeFrame(buffer.AsSpan(start, filled - start), out BgzfFrame frame, out int missing))
                {
                    frames.Add((frame, buffer.AsSpan(start, frame.Length).ToArray()));
                    start += frame.Length;
                    continue;
                }

                if (missing == 0)
                {
                    break;
                }

                if (bufferLength - filled < missing)
                {
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                    start = 0;
                    Assert.True(bufferLength - filled >= missing, $"a block larger than the test's buffer of {bufferLength}");
                }

                filled += reader.ReadAhead(buffer.AsSpan(filled, Math.Min(bufferLength - filled, Math.Max(readLength, missing))), missing);
            }
        }
        catch (BgzfFormatException e)
        {
            return new Run(frames, e, -1);
        }

        return new Run(frames, null, reader.CompressedOffset);
    }

    private static void AssertSame(Run expected, Run actual, string context)
    {
        Assert.True(expected.Frames.Count == actual.Frames.Count, $"{context}: {actual.Frames.Count} frames, expected {expected.Frames.Count} (then {actual.Error?.Message ?? "no error"}; expected {expected.Error?.Message ?? "no error"})");
        for (int i = 0; i < expected.Frames.Count; i++)
        {
            Assert.True(expected.Frames[i].Frame == actual.Frames[i].Frame, $"{context}: frame {i} is {actual.Frames[i].Frame}, expected {expected.Frames[i].Frame}");
            Assert.True(expected.Frames[i].Bytes.AsSpan().SequenceEqual(actual.Frames[i].Bytes), $"{context}: frame {i} bytes differ");
        }

        Assert.True((expected.Error?.Error, expected.Error?.CompressedOffset, expected.Error?.FileName) == (actual.Error?.Error, actual.Error?.CompressedOffset, actual.Error?.FileName),
            $"{context}: error {actual.Error?.Error} @ {actual.Error?.CompressedOffset}, expected {expected.Error?.Error} @ {expected.Error?.CompressedOffset}");
        Assert.Equal(expected.Error?.Message, actual.Error?.Message); // the same numbers (needed, found) in the same words
        Assert.Equal(expected.EndOffset, actual.EndOffset);
    }
}
