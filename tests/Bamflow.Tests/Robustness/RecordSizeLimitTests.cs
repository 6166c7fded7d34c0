using System.Buffers.Binary;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Tests.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// One corrupt block_size in a file of many segments: every way of reading (the reader, the sequential engine, the
/// parallel engine at 1, 2 and 3 threads, a pipe) fails at once with the same typed error naming the record, and
/// allocates about what a normal run does, not what the record claims; a real record longer than many segments is
/// read with linear copying. Counts every byte the process allocates, so it runs alone.
/// </summary>
[Collection(nameof(AllocationCounting))]
public sealed class RecordSizeLimitTests : IDisposable
{
    // Segments of 64 KiB: the 6 MB file spans about a hundred of them.
    private static readonly ConversionOptions s_smallSegments = new() { BatchSize = 500, MaxBatchBytes = 64 << 10 };
    private static readonly LargeBam s_bam = new(6 << 20);

    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-record-limit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0x40000000u)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0x04000001u)] // one byte over the 64 MiB limit
    public async Task CorruptBlockSize_SecondRecordOfLargeFile_EveryWayFailsAtOnceNamingIt(uint blockSize)
    {
        string path = Write($"second-{blockSize:x}.bam", s_bam.Compressed(1, blockSize));
        long fileLength = new FileInfo(path).Length;
        // Both records are in the first block (65,280 inflated bytes), at compressed offset 0.
        var expected = new VirtualPosition(0, s_bam.RecordOffset(1));

        foreach ((string way, Func<Task<EngineRuns.Outcome>> run) in Ways(path))
        {
            (EngineRuns.Outcome outcome, long allocated) = await MeasureAsync(run);

            outcome.AssertTypedError(path, fileLength, way);
            var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
            Assert.Equal((BamRecordError.BlockSizeTooLarge, "block_size", 1L, expected), (error.Error, error.Field, error.RecordIndex, error.Position));
            // A normal run of this file allocates a few MB (its segments, batches and pools); the record claims 1–2 GiB.
            Assert.True(allocated < 24 << 20, $"{way}: {allocated:N0} bytes allocated before the error");
        }
    }

    [Fact]
    public async Task BlockSizePastTheEndOfTheFile_RecordNearTheEnd_EveryWayTruncatedNamingIt()
    {
        // 32 MiB is under the limit, but the few blocks after the record cannot hold it: every way reads them and names
        // the record when the file ends (from a pipe as from the file), holding only the bytes that were there.
        int index = s_bam.RecordCount - 3;
        string path = Write("near-end.bam", s_bam.Compressed(index, 32u << 20));
        long fileLength = new FileInfo(path).Length;

        var keys = new List<string>();
        foreach ((string way, Func<Task<EngineRuns.Outcome>> run) in Ways(path))
        {
            (EngineRuns.Outcome outcome, _) = await MeasureAsync(run);

            outcome.AssertTypedError(path, fileLength, way);
            var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
            Assert.Equal((BamRecordError.Truncated, "block_size", (long)index), (error.Error, error.Field, error.RecordIndex));
            keys.Add(outcome.Key);
        }

        Assert.All(keys, key => Assert.Equal(keys[0], key));
    }

    [Fact]
    public async Task MaxRecordSize_SetBelowARealRecord_EveryWayRejectsThatRecord()
    {
        // The limit applies to every record, whole in a segment or not: a limit one byte below the longest record's
        // block_size stops at the first record of that length.
        string path = Write("plain.bam", s_bam.Compressed());
        byte[] inflated = s_bam.Inflated();
        int[] sizes = [.. Enumerable.Range(0, s_bam.RecordCount).Select(i => BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(s_bam.RecordOffset(i))))];
        int index = Array.IndexOf(sizes, sizes.Max());

        foreach ((string way, Func<Task<EngineRuns.Outcome>> run) in Ways(path, maxRecordSize: sizes.Max() - 1))
        {
            EngineRuns.Outcome outcome = await run();

            var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
            Assert.True((BamRecordError.BlockSizeTooLarge, (long)index) == (error.Error, error.RecordIndex), $"{way}: {outcome.Key}");
        }
    }

    [Fact]
    public async Task LongRecord_SpanningAHundredSegments_ReadWithLinearCopyingAtEveryThreadCount()
    {
        // A valid 7.5 MB record (5 Mb of sequence with qualities) among the sample's records, segments of 64 KiB.
        const int length = 5_000_000;
        byte[] longRecord = LongRecords.Unmapped(length);
        byte[] sample = s_bam.Inflated();
        int split = s_bam.RecordOffset(100);
        string path = Write("long.bam", BgzfTestWriter.Compress([.. sample.AsSpan(0, split), .. longRecord, .. sample.AsSpan(split)]));

        EngineRuns.Outcome? sequential = null;
        foreach (int threads in (int[])[1, 2, 3])
        {
            (EngineRuns.Outcome outcome, long allocated) = await MeasureAsync(() => EngineRuns.ConvertAsync(path, new PipelineOptions { Threads = threads }, s_smallSegments));

            Assert.Null(outcome.Error);
            Assert.Equal(s_bam.RecordCount + 1, outcome.Records);
            sequential ??= outcome;
            Assert.Equal(sequential.Ipc, outcome.Ipc);
            // ≈ 119 MB measured (the Arrow columns and the IPC output in memory, the record carried once, growing
            // geometrically, and moved once). A carry that grows by each segment's bytes, copying the record again every
            // time, measured 320 MB.
            Assert.True(allocated < 200 << 20, $"threads={threads}: {allocated:N0} bytes allocated");
        }

        List<Apache.Arrow.RecordBatch> batches = ArrowSam.ReadAll(sequential!.Ipc!, stream: false);
        Assert.Contains(batches, b => Enumerable.Range(0, b.Length).Any(row => ((Apache.Arrow.StringArray)b.Column(BamColumns.Seq)).GetString(row)?.Length == length));
    }

    [Theory]
    [InlineData(0u)]          // block_size too small
    [InlineData(0x7FFFFFFFu)] // beyond the limit
    public async Task InvalidRecordThenFramingErrorDeepInLargeFile_EveryWay_ReportsTheInvalidRecordFirst(uint nextBlockSize)
    {
        // Found by the fuzzer's large mutants: the parallel engine's reader, waiting for a free segment when the walk met
        // the framing error, ended the front-end before the chunks cut ahead of the error reached the run, so the run
        // named the framing error instead of the invalid record before it.
        int index = s_bam.RecordCount / 2;
        byte[] inflated = s_bam.Inflated(index + 1, nextBlockSize);
        int start = s_bam.RecordOffset(index);
        int auxType = start + 4 + 32 + inflated[start + 4 + 8] + 4 * BinaryPrimitives.ReadUInt16LittleEndian(inflated.AsSpan(start + 4 + 12))
            + (BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(start + 4 + 16)) + 1) / 2 + BinaryPrimitives.ReadInt32LittleEndian(inflated.AsSpan(start + 4 + 16)) + 2;
        inflated[auxType] = (byte)'Q'; // the first aux field's type: unknown
        string path = Write($"invalid-then-{nextBlockSize:x}.bam", BgzfTestWriter.Compress(inflated));
        var conversion = s_smallSegments with { BatchSize = 64, MaxBatchBytes = 32 << 10, TagScanRecords = 0 };

        foreach ((string way, Func<Task<EngineRuns.Outcome>> run) in Ways(path, conversion: conversion))
        {
            EngineRuns.Outcome outcome = await run();

            var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
            Assert.True((BamRecordError.AuxType, (long)index) == (error.Error, error.RecordIndex), $"{way}: {outcome.Key}");
        }
    }

    /// <summary>The ways to read <paramref name="path"/>, each ending in an outcome.</summary>
    private static IEnumerable<(string Way, Func<Task<EngineRuns.Outcome>> Run)> Ways(string path, int maxRecordSize = BamRecordFraming.DefaultMaxRecordSize, ConversionOptions? conversion = null)
    {
        conversion ??= s_smallSegments;
        BamReader Open(Microsoft.Extensions.Logging.ILogger log, IBgzfInflater backend)
        {
            BamReader reader = BamReader.Open(path, log, backend);
            reader.MaxRecordSize = maxRecordSize;
            return reader;
        }

        BamReader OpenPipe(Microsoft.Extensions.Logging.ILogger log, IBgzfInflater backend)
        {
            var reader = new BamReader(new TrickleStream(File.ReadAllBytes(path), 1 << 20), path, log, backend);
            reader.MaxRecordSize = maxRecordSize;
            return reader;
        }

        yield return ("reader", () => Task.Run(() =>
        {
            long records = 0;
            try
            {
                using IBgzfInflater backend = BgzfInflater.Create();
                using BamReader reader = Open(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, backend);
                while (reader.TryRead(out _))
                {
                    records++;
                }

                return new EngineRuns.Outcome(records, reader.MissingEofMarker, 0, null, null);
            }
            catch (Exception e)
            {
                return new EngineRuns.Outcome(records, false, 0, e, null);
            }
        }).WaitAsync(EngineRuns.Deadline, TestContext.Current.CancellationToken));
        yield return ("sequential", () => EngineRuns.ConvertAsync(path, Open, new PipelineOptions { Sequential = true }, conversion));
        foreach (int threads in (int[])[1, 2, 3])
        {
            yield return ($"parallel@{threads}", () => EngineRuns.ConvertAsync(path, Open, new PipelineOptions { Threads = threads }, conversion));
        }

        yield return ("parallel@2 from a pipe", () => EngineRuns.ConvertAsync(path, OpenPipe, new PipelineOptions { Threads = 2 }, conversion));
        yield return ("sequential from a pipe", () => EngineRuns.ConvertAsync(path, OpenPipe, new PipelineOptions { Sequential = true }, conversion));
    }

    private static async Task<(EngineRuns.Outcome Outcome, long Allocated)> MeasureAsync(Func<Task<EngineRuns.Outcome>> run)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        EngineRuns.Outcome outcome = await run();
        return (outcome, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    private string Write(string name, byte[] file)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, file);
        return path;
    }
}
