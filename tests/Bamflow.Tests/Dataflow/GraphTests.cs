using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>
/// Custom graphs: filters keep exactly what samtools view keeps, statistics see every record once whatever the
/// thread count, and a block of the user's takes part in completion and faults like the engine's own.
/// </summary>
public sealed class GraphTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    public static TheoryData<string, string, string> Filters()
    {
        var data = new TheoryData<string, string, string>();
        string[] files = ["hts-specs__level-9.bam", "htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam", "samtools__test_input_1_d.bam", "modkit__supplementary_and_secondary_read.bam"];
        foreach (string file in files)
        {
            data.Add(file, "-f", "1");        // paired
            data.Add(file, "-f", "0x42");     // paired and first in pair
            data.Add(file, "-F", "0x904");    // primary mapped
            data.Add(file, "-G", "0x90");     // not (reverse and second in pair)
            data.Add(file, "-q", "30");
        }

        data.Add("htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam", "-r", "20FUK.1");
        data.Add("hts-specs__level-9.bam", "-r", "no-such-group");
        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(Filters))]
    public void Where_SamtoolsFilter_KeepsWhatSamtoolsViewKeeps(string file, string option, string value)
    {
        string path = SharedData.CorpusPath(file);
        RecordPredicate filter = option switch
        {
            "-f" => RecordFilters.RequireFlags(System.Convert.ToInt32(value, 16)),
            "-F" => RecordFilters.ExcludeAnyFlags(System.Convert.ToInt32(value, 16)),
            "-G" => RecordFilters.ExcludeAllFlags(System.Convert.ToInt32(value, 16)),
            "-q" => RecordFilters.MinimumMappingQuality(int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)),
            "-r" => RecordFilters.ReadGroups([value]),
            _ => throw new ArgumentOutOfRangeException(nameof(option)),
        };
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsView([option, value], path);

        foreach (int threads in (int[])[1, 3])
        {
            var engine = new BamArrowPipeline(new() { BatchSize = 500 }, new() { Threads = threads }).Where(filter);
            (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, engine);

            ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false)).ToList(), $"{file} {option} {value}, {threads} threads");
            Assert.Equal(expected.Count, summary.Records);
            Assert.Equal(ArrowSam.SamtoolsLines(path).Count, summary.RecordsRead);
        }
    }

    public static TheoryData<string> CorpusFiles => [.. SharedData.CorpusFiles(bad: false)];

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Where_CombinedFilters_EveryCorpusFile_KeepsWhatSamtoolsViewKeeps(string file)
    {
        string path = SharedData.CorpusPath(file);
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsView(["-f", "1", "-F", "0x900", "-q", "10"], path);
        var engine = new BamArrowPipeline(null, new() { Threads = 2 })
            .Where(RecordFilters.RequireFlags(1))
            .Where(RecordFilters.ExcludeAnyFlags(0x900))
            .Where(RecordFilters.MinimumMappingQuality(10));

        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, engine);

        ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false)).ToList(), $"{file} -f 1 -F 0x900 -q 10");
        Assert.Equal(expected.Count, summary.Records);
    }

    [Fact]
    public void Where_ReadGroups_KeepsRecordsWithoutAnRgTagAsSamtoolsDoes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bamflow-rg-{Guid.NewGuid():N}.bam");
        File.WriteAllBytes(path, Samtools.SamToBam(System.Text.Encoding.ASCII.GetBytes(
            "@HD\tVN:1.6\n@SQ\tSN:c\tLN:100\n@RG\tID:a\n@RG\tID:b\n"
            + "r1\t0\tc\t1\t0\t4M\t*\t0\t0\tACGT\t*\tRG:Z:a\n"
            + "r2\t0\tc\t1\t0\t4M\t*\t0\t0\tACGT\t*\n"
            + "r3\t0\tc\t1\t0\t4M\t*\t0\t0\tACGT\t*\tRG:Z:b\n")));
        try
        {
            List<ArrowSam.Line> expected = ArrowSam.SamtoolsView(["-r", "a"], path);

            (byte[] ipc, _) = Conversion.ToIpc(path, new BamArrowPipeline().Where(RecordFilters.ReadGroups(["a"])));

            Assert.Equal(["r1", "r2"], expected.Select(l => Field(l, 0)));
            ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false)).ToList(), "-r a");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [CorpusFact]
    public void Where_References_KeepsTheRecordsPlacedOnThem()
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        using BamReader header = BamReader.Open(path);
        string[] names = [header.Header.References[0].Name, header.Header.References[3].Name];
        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path).Where(l => names.Contains(Field(l, 2))).ToList();
        Assert.NotEmpty(expected);

        var engine = new BamArrowPipeline().Where(RecordFilters.References(header.Header, names));
        (byte[] ipc, _) = Conversion.ToIpc(path, engine);

        ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false)).ToList(), "references");
        Assert.Throws<ArgumentException>(() => RecordFilters.References(header.Header, ["chrNope"]));
    }

    [CorpusTheory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    public async Task Observe_AfterAFilter_CountsEachKeptRecordOnce(int threads, bool sequential)
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        var all = new CountAndMapq();
        var primary = new CountAndMapq();
        using BamReader reader = BamReader.Open(path);
        var engine = new BamArrowPipeline(new() { BatchSize = 300 }, new() { Threads = threads, Sequential = sequential })
            .Observe(all)
            .Where(RecordFilters.ExcludeAnyFlags(0x900))
            .Observe(primary);

        ConversionSummary summary = await engine.RunAsync(reader, null, TestContext.Current.CancellationToken);

        List<ArrowSam.Line> everything = ArrowSam.SamtoolsLines(path);
        List<ArrowSam.Line> kept = ArrowSam.SamtoolsView(["-F", "0x900"], path);
        Assert.Equal(everything.Count, all.Records);
        Assert.Equal(everything.Sum(l => long.Parse(Field(l, 4), System.Globalization.CultureInfo.InvariantCulture)), all.MapqSum);
        Assert.Equal(kept.Count, primary.Records);
        Assert.Equal(kept.Count, summary.Records);
        Assert.Equal(0, summary.Batches);
    }

    [CorpusFact]
    public void Then_UserBlockDropsRecords_OutputHasTheRest()
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        var engine = new BamArrowPipeline(new() { BatchSize = 700 }, new() { Threads = 2 })
            .Then(options => new TransformBlock<RecordChunk, RecordChunk>(
                chunk =>
                {
                    chunk.Retain(record => record.Position % 2 == 0); // even 0-based POS: odd SAM POS
                    return chunk;
                },
                options), "odd positions");

        (byte[] ipc, _) = Conversion.ToIpc(path, engine);

        List<ArrowSam.Line> expected = ArrowSam.SamtoolsLines(path).Where(l => int.Parse(Field(l, 3), System.Globalization.CultureInfo.InvariantCulture) % 2 == 1).ToList();
        ArrowSam.AssertSame(expected, ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false)).ToList(), "user block");
    }

    [Fact]
    public async Task Then_UserBlockThrows_RunFailsWithThatExceptionAndReadingStopsAtOnce()
    {
        using BamReader reader = FaultInput.OpenCounted(out ReadCountingStream input);
        var boom = new FormatException("user block failed (injected)");
        int seen = 0;
        long recordsBefore = 0, readAtFault = -1;
        var sink = new RecordingSink();
        // One chunk at a time (in file order, as the engine hands them on): the fault is at a known place, after
        // recordsBefore records. The rest of the options are the engine's.
        var engine = new BamArrowPipeline(FaultInput.Options, new() { Threads = 4 })
            .Then(options => new TransformBlock<RecordChunk, RecordChunk>(
                chunk =>
                {
                    if (++seen == 5)
                    {
                        readAtFault = input.BytesRead;
                        throw boom;
                    }

                    recordsBefore += chunk.Count;
                    return chunk;
                },
                new ExecutionDataflowBlockOptions { BoundedCapacity = options.BoundedCapacity, CancellationToken = options.CancellationToken, TaskScheduler = options.TaskScheduler }));

        var thrown = await Assert.ThrowsAsync<FormatException>(() => engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken));

        Assert.Same(boom, thrown);
        Assert.False(sink.Completed);
        Assert.InRange(sink.Records, 0, recordsBefore); // no record of the failed chunk, or after it, reached the sink
        // What was read after the fault, and in all, stays within what the engine may hold at once (FaultInput
        // explains the bound), far from the end of the 42 MB input.
        FaultInput.AssertStoppedReading(input, readAtFault, "Then block fault at the 5th chunk");
    }

    [CorpusTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Summary_StageMetrics_AccountForEveryItem(bool sequential)
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        var engine = new BamArrowPipeline(new() { BatchSize = 1000 }, new() { Threads = 2, Sequential = sequential })
            .Where(RecordFilters.ExcludeAnyFlags(0x4), "-F 4");

        (_, ConversionSummary summary) = Conversion.ToIpc(path, engine);

        // One graph for every thread count: the sequential alias is its one-thread run.
        string[] expected = ["read", "read: waiting (backpressure)", "inflate", "join", "-F 4", "convert", "write"];
        Assert.Equal(expected, summary.Stages.Select(s => s.Name));
        StageMetrics Stage(string name) => summary.Stages.Single(s => s.Name == name);
        Assert.Equal(20, Stage("-F 4").Items);                         // 20,000 records in chunks of 1,000
        Assert.Equal(summary.Batches, Stage("write").Items);
        Assert.Equal(20, Stage("convert").Items);
        Assert.Equal(Stage("read").Items, Stage("inflate").Items);
        Assert.Equal(Stage("read").Items, Stage("join").Items);
        Assert.Equal(sequential ? 1 : 2, Stage("inflate").Workers);

        Assert.All(summary.Stages, s => Assert.InRange(s.Utilisation, 0, 1.05));
        Assert.True(Stage("convert").Busy > TimeSpan.Zero);
        Assert.InRange(summary.PeakManagedBytes, 1, long.MaxValue);
        Assert.InRange(summary.PeakProcessBytes, summary.PeakManagedBytes / 2, long.MaxValue);
    }

    [CorpusFact]
    public async Task Progress_Reporter_IsToldAfterEveryBatchWithGrowingCounts()
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        using BamReader reader = BamReader.Open(path);
        var reports = new List<ProgressReport>();
        var progress = new ConversionProgress { TotalBytes = new FileInfo(path).Length, Reporter = new Collect(reports) };

        ConversionSummary summary = await new BamArrowPipeline(new() { BatchSize = 2000 }).RunAsync(reader, new RecordingSink(), progress, TestContext.Current.CancellationToken);

        Assert.Equal(summary.Batches, reports.Count);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i * 2000L), reports.Select(r => r.RecordsWritten));
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second.CompressedBytesRead >= p.First.CompressedBytesRead && p.Second.Elapsed >= p.First.Elapsed));
        Assert.All(reports, r => Assert.InRange(r.Fraction!.Value, 0, 1));
        Assert.Equal(20_000, reports[^1].RecordsRead);
    }

    private sealed class Collect(List<ProgressReport> reports) : IProgress<ProgressReport>
    {
        public void Report(ProgressReport value) => reports.Add(value);
    }

    [CorpusFact]
    public void ThenBatches_UserBlockSeesEveryBatchInOrder()
    {
        string path = SharedData.CorpusPath("hts-specs__level-9.bam");
        var seen = new List<long>();
        var counted = new BamArrowPipeline(new() { BatchSize = 1500 }, new() { Threads = 3 })
            .ThenBatches(options => new TransformBlock<RecordBatch, RecordBatch>(
                batch =>
                {
                    seen.Add(batch.Length);
                    return batch;
                },
                new ExecutionDataflowBlockOptions { BoundedCapacity = options.BoundedCapacity, CancellationToken = options.CancellationToken, TaskScheduler = options.TaskScheduler }));

        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, counted);

        Assert.Equal([.. Enumerable.Repeat(1500L, 13), 500L], seen);
        Assert.Equal(20_000, ArrowSam.ReadAll(ipc, stream: false).Sum(b => b.Length));
        Assert.Equal(20_000, summary.Records);
    }

    [Fact]
    public async Task ThenBatches_UserBlockThrows_RunFailsWithThatExceptionAndReadingStopsAtOnce()
    {
        using BamReader reader = FaultInput.OpenCounted(out ReadCountingStream input);
        var boom = new InvalidDataException("batch block failed (injected)");
        int seen = 0;
        long recordsBefore = 0, readAtFault = -1;
        var sink = new RecordingSink();
        // One batch at a time, in order: the fault is at the 3rd batch, after recordsBefore records.
        var engine = new BamArrowPipeline(FaultInput.Options, new() { Threads = 4 })
            .ThenBatches(options => new TransformBlock<RecordBatch, RecordBatch>(
                batch =>
                {
                    if (++seen == 3)
                    {
                        readAtFault = input.BytesRead;
                        throw boom;
                    }

                    recordsBefore += batch.Length;
                    return batch;
                },
                new ExecutionDataflowBlockOptions { BoundedCapacity = options.BoundedCapacity, CancellationToken = options.CancellationToken, TaskScheduler = options.TaskScheduler }));

        var thrown = await Assert.ThrowsAsync<InvalidDataException>(() => engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken));

        Assert.Same(boom, thrown);
        Assert.False(sink.Completed);
        Assert.InRange(sink.Records, 0, recordsBefore); // the failed batch, and none after it, reached the sink
        FaultInput.AssertStoppedReading(input, readAtFault, "ThenBatches block fault at the 3rd batch");
    }

    [Fact]
    public async Task Then_WithTheSequentialAlias_RunsTheBlockOnTheOneThreadGraph()
    {
        // --sequential is the one-thread run of the same graph: blocks of the user's work there as at any thread count.
        string path = Conversion.Fixture("sample.bam");
        long seen = 0;
        var engine = new BamArrowPipeline(new() { BatchSize = 300 }, new() { Sequential = true })
            .Then(options => new TransformBlock<RecordChunk, RecordChunk>(chunk => { Interlocked.Add(ref seen, chunk.Count); return chunk; }, options));

        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, engine);
        (byte[] threaded, _) = Conversion.ToIpc(path, new BamArrowPipeline(new() { BatchSize = 300 }, new() { Threads = 3 }));

        Assert.Equal(2023, seen);
        Assert.Equal(1, summary.Threads);
        Assert.Equal(threaded, ipc);
        await Task.CompletedTask;
    }

    private static string Field(ArrowSam.Line line, int index) => line.Fields.Split('\t')[index];

    [CorpusTheory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Attach_ASinkThatTakesTheBatches_KeepsThemIntactUntilItHandsThemBack(int threads)
    {
        // The sink writes each batch as IPC at once but keeps it, and hands it back later from another thread;
        // whatever the engine builds meanwhile must not reuse a batch's memory before that.
        string path = SharedData.CorpusPath("htsjdk__CEUTrio.HiSeq.WGS.b37.NA12878.20.first.8000.bam");
        var engine = new BamArrowPipeline(new() { BatchSize = 300 }, new() { Threads = threads });
        var output = new MemoryStream();
        await using (var sink = new LateReleaseSink(new ArrowIpcSink(output, ArrowIpcFormat.Stream)))
        {
            using var reader = BamReader.Open(path);
            await engine.RunAsync(reader, sink, cancellationToken: TestContext.Current.CancellationToken);
            await sink.AllReleased.WaitAsync(s_deadline, TestContext.Current.CancellationToken);

            Assert.Equal(threads, sink.Workers);
            Assert.True(sink.Written > 20, $"{sink.Written} batches");
            Assert.Equal(sink.Written, sink.Released);
            Assert.Empty(sink.Changed);
        }

        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), ArrowSam.Lines(ArrowSam.ReadAll(output.ToArray(), stream: true)).ToList(), $"{threads} threads");
    }

    [Fact]
    public async Task Attach_TheSequentialAlias_OffersOneWorker()
    {
        var output = new MemoryStream();
        await using var sink = new LateReleaseSink(new ArrowIpcSink(output, ArrowIpcFormat.Stream));
        using var reader = BamReader.Open(Conversion.Fixture("sample.bam"));
        await new BamArrowPipeline(new(), new() { Sequential = true }).RunAsync(reader, sink, cancellationToken: TestContext.Current.CancellationToken);
        await sink.AllReleased.WaitAsync(s_deadline, TestContext.Current.CancellationToken);

        Assert.Equal(1, sink.Workers);
        Assert.True(sink.Written > 0);
        Assert.Equal(sink.Written, sink.Released);
    }

    /// <summary>Takes the run's batches (when offered), checks each is unchanged when handing it back 0–20 ms later.</summary>
    private sealed class LateReleaseSink(ArrowIpcSink inner) : IRecordBatchSink
    {
        private readonly TaskCompletionSource _allReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _changed = new();
        private SinkContext? _context;
        private int _pending = 1;
        private int _written;
        private int _released;

        public int Workers => _context?.Workers ?? 0;

        public int Written => _written;

        public int Released => _released;

        public IReadOnlyCollection<string> Changed => _changed;

        public Task AllReleased => _allReleased.Task;

        public bool ReleasesBatchMemory => true;

        public bool Attach(SinkContext context)
        {
            _context = context;
            return true;
        }

        public Task StartAsync(Schema schema, CancellationToken cancellationToken) => inner.StartAsync(schema, cancellationToken);

        public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            await inner.WriteAsync(batch, cancellationToken);
            int index = Interlocked.Increment(ref _written);
            if (_context is not { } context)
            {
                return;
            }

            string before = Fingerprint(batch);
            Interlocked.Increment(ref _pending);
            _ = Task.Run(async () =>
            {
                await Task.Delay(index * 7 % 21, CancellationToken.None);
                if (Fingerprint(batch) != before)
                {
                    _changed.Enqueue($"batch {index}");
                }

                Interlocked.Increment(ref _released);
                context.Release(batch);
                if (Interlocked.Decrement(ref _pending) == 0)
                {
                    _allReleased.TrySetResult();
                }
            }, CancellationToken.None);
        }

        public Task CompleteAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _allReleased.TrySetResult();
            }

            return inner.CompleteAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private static string Fingerprint(RecordBatch batch)
        {
            var names = (StringArray)batch.Column("qname");
            var positions = (Int32Array)batch.Column("pos");
            return $"{batch.Length}:{names.GetString(0)}:{names.GetString(batch.Length - 1)}:{positions.GetValue(batch.Length / 2)}:{string.Join(',', Enumerable.Range(0, batch.Length).Select(i => names.GetString(i)?.Length ?? -1).Sum())}";
        }
    }

    /// <summary>Records and the sum of MAPQ: enough to see a record missed or counted twice.</summary>
    private sealed class CountAndMapq : RecordStatistics<CountAndMapq>
    {
        public long Records { get; private set; }

        public long MapqSum { get; private set; }

        public override void Observe(BamRecord record)
        {
            Records++;
            MapqSum += record.MappingQuality;
        }

        public override void Add(CountAndMapq other)
        {
            Records += other.Records;
            MapqSum += other.MapqSum;
        }
    }

    private sealed class RecordingSink : IRecordBatchSink
    {
        public bool Completed { get; private set; }

        public Task StartAsync(Schema schema, CancellationToken cancellationToken) => Task.CompletedTask;

        /// <summary>Records in the batches written.</summary>
        public long Records { get; private set; }

        public Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            Records += batch.Length;
            return Task.CompletedTask;
        }

        public Task CompleteAsync(CancellationToken cancellationToken)
        {
            Completed = true;
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
