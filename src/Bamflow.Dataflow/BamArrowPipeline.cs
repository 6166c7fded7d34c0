using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Collections.Concurrent;
using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bamflow.Dataflow;

/// <summary>
/// The conversion engine: one graph for every thread count. The source block (<see cref="RecordSource"/>: the BGZF
/// segment reader, a parallel ordered inflate block, and the sequential step that joins records straddling two
/// segments) gives chunks of records, views of a fixed set of segment buffers; the record stages (filters, statistics,
/// blocks of the user's) follow; a bounded <see cref="TransformBlock{TInput,TOutput}"/>
/// (<c>MaxDegreeOfParallelism</c> = threads, <c>EnsureOrdered</c>) turns each chunk into a <see cref="RecordBatch"/>;
/// an <see cref="ActionBlock{TInput}"/> hands them, in file order, to an <see cref="IRecordBatchSink"/>. Memory is
/// bounded by the segment buffers and the blocks' capacities, whatever the file size or the read length. A fault anywhere
/// stops the reader and completes every block; the caller gets that original exception.
/// </summary>
public sealed partial class BamArrowPipeline
{
    private readonly ConversionOptions _conversion;
    private readonly PipelineOptions _pipeline;
    private readonly ILogger _logger;

    /// <summary>Creates an engine with the given options.</summary>
    public BamArrowPipeline(ConversionOptions? conversion = null, PipelineOptions? pipeline = null, ILogger? logger = null)
    {
        _conversion = conversion ?? new ConversionOptions();
        _pipeline = pipeline ?? new PipelineOptions();
        _conversion.Validate();
        _pipeline.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The record stages, in order, between the source and the conversion.</summary>
    private readonly List<RecordStage> _stages = [];

    /// <summary>The user's batch stages, in order, between the conversion and the sink.</summary>
    private readonly List<Func<ExecutionDataflowBlockOptions, IPropagatorBlock<RecordBatch, RecordBatch>>> _batchStages = [];

    /// <summary>
    /// Puts your own block between the conversion and the sink: it sees every <see cref="RecordBatch"/>, in file
    /// order, and must pass each one on (the sink writes what it passes; the engine disposes them afterwards). It
    /// gets the same options as <see cref="Then"/>; if it faults, the run fails with that exception. Needs a sink.
    /// </summary>
    public BamArrowPipeline ThenBatches(Func<ExecutionDataflowBlockOptions, IPropagatorBlock<RecordBatch, RecordBatch>> createBlock)
    {
        ArgumentNullException.ThrowIfNull(createBlock);
        _batchStages.Add(createBlock);
        return this;
    }

    /// <summary>
    /// Keeps only the records for which <paramref name="keep"/> returns true (a parallel, ordered block before the
    /// conversion; later stages and the output never see the others). <see cref="RecordFilters"/> has samtools' filters.
    /// </summary>
    public BamArrowPipeline Where(RecordPredicate keep, string name = "filter")
    {
        ArgumentNullException.ThrowIfNull(keep);
        _stages.Add(new RecordStage(name, chunk => chunk.Retain(keep), null, Drops: true));
        return this;
    }

    /// <summary>
    /// Reads <paramref name="passes"/> one after the other instead of the whole file: each the whole file (null ranges)
    /// or ranges of virtual positions in the order given (each starting at a record and ending at one: what an index's
    /// chunks or a shard plan give), with the records it keeps (null: every record in its ranges). Ranges need a
    /// reader of a file (it seeks). <see cref="Regions"/> builds the passes of a region query.
    /// </summary>
    public BamArrowPipeline Select(IReadOnlyList<ReadPass> passes)
    {
        ArgumentNullException.ThrowIfNull(passes);
        if (_passes is not null)
        {
            throw new InvalidOperationException("the engine has a region query already: make one query of all the regions");
        }

        _passes = passes;
        if (passes.Any(pass => pass.Keep is not null))
        {
            _stages.Insert(0, new RecordStage("regions", static chunk => chunk.ApplySelection(), null, Drops: true));
        }

        return this;
    }

    private IReadOnlyList<ReadPass>? _passes;

    /// <summary>The tag scan a shard plan made (<see cref="Shard"/>): the schema comes from it, no record is scanned.</summary>
    private TagDiscovery? _knownTags;

    /// <summary>
    /// Counts every record that reaches this point into <paramref name="statistics"/>, without changing the stream.
    /// Each worker counts its chunk into a fresh partial that is then added to <paramref name="statistics"/>, so
    /// it is complete when the run ends and must not be read before.
    /// </summary>
    public BamArrowPipeline Observe<T>(T statistics)
        where T : RecordStatistics<T>, new()
    {
        ArgumentNullException.ThrowIfNull(statistics);
        _stages.Add(new RecordStage(typeof(T).Name, chunk =>
        {
            var partial = new T();
            chunk.ForEach(partial, static (record, p) => p.Observe(record));
            lock (statistics)
            {
                statistics.Add(partial);
            }
        }, null, Drops: false));
        return this;
    }

    /// <summary>
    /// Puts your own block into the graph at this point. <paramref name="createBlock"/> gets the options the
    /// engine's own blocks use (the run's scheduler, cancellation and a bounded capacity) and returns a block that
    /// passes chunks on, in order; it may drop records with <see cref="RecordChunk.Retain"/>, and it must pass on
    /// every chunk it receives (the engine releases their memory after conversion). If it faults, the run fails
    /// with that exception.
    /// </summary>
    public BamArrowPipeline Then(Func<ExecutionDataflowBlockOptions, IPropagatorBlock<RecordChunk, RecordChunk>> createBlock, string name = "custom")
    {
        ArgumentNullException.ThrowIfNull(createBlock);
        _stages.Add(new RecordStage(name, null, createBlock, Drops: true));
        return this;
    }

    /// <summary>
    /// Starts reading <paramref name="reader"/>'s records and fixes the schema from the leading ones (the tag scan).
    /// The chunks read for that stay in the plan, so nothing is read twice and a pipe works. Dispose the plan if
    /// it is not run.
    /// </summary>
    /// <remarks>
    /// The plan is for a conversion: the header and the scanned records are checked as the conversion checks them,
    /// values included (a name or text that is not UTF-8, a position out of range: <see cref="BamRecord.ValidateValues"/>),
    /// so the error a run reports is the first in file order whichever check finds it.
    /// </remarks>
    public Task<SchemaPlan> PlanAsync(BamReader reader, CancellationToken cancellationToken = default) =>
        PlanAsync(reader, forConversion: true, cancellationToken);

    private async Task<SchemaPlan> PlanAsync(BamReader reader, bool forConversion, CancellationToken cancellationToken, bool scanOnly = false)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (forConversion)
        {
            reader.Header.ThrowIfNotUtf8(reader.FileName);
        }

        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var faults = new FirstFault(stop);

        // Every block of the run shares one scheduler of Threads workers: --threads is the number of cores the
        // conversion uses, whatever stage (read, inflate, join, convert, write) needs them at the moment.
        bool lenient = _pipeline.Validation == ValidationMode.Lenient;
        int threads = _pipeline.EffectiveThreads;
        TaskScheduler scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, threads).ConcurrentScheduler;
        (BgzfSegmentReader segments, BamRecordJoiner joiner, RecordPredicate?[]? selections, long rangeBytes) = OpenBody(reader, _passes);
        // A scan alone (a shard plan's) reads only the segments it takes: one slot more each time it asks for a chunk.
        var source = new RecordSource(segments, joiner, reader.Header.References.Count, _pipeline.Inflater, scheduler, threads, _conversion.BatchSize, SegmentBudget(rangeBytes, threads), lenient, scanOnly ? 1 : PlanSlots + RunSlots(threads), faults, selections);
        var plan = new SchemaPlan(reader, source, joiner, scheduler, stop, faults);
        try
        {
            TagDiscovery discovery = _knownTags ?? new TagDiscovery();
            if (_conversion.TagMode != TagMode.None && _knownTags is null)
            {
                // The scan holds the chunks it reads (they are converted afterwards, so a pipe is read once): at most
                // PlanBudgetBatches batches' bytes of them, so that long reads do not hold a whole file, and chunks of at
                // most PlanSlots segment buffers, the slots set aside for it: the ranges of a region query are segments of
                // their own, however small, and a scan holding more slots than the source has would wait for one forever.
                long held = 0, heldLimit = (long)PlanBudgetBatches * _conversion.MaxBatchBytes;
                int heldSegments = 0;
                object? lastSegment = null;
                while (discovery.RecordsScanned < _conversion.TagScanRecords && held < heldLimit && heldSegments < PlanSlots)
                {
                    if (scanOnly)
                    {
                        source.LimitSlots(heldSegments + 1);
                    }

                    if (await source.NextAsync(stop.Token).ConfigureAwait(false) is not { } chunk)
                    {
                        break;
                    }

                    if (!ReferenceEquals(chunk.Segment, lastSegment))
                    {
                        heldSegments++;
                        lastSegment = chunk.Segment;
                    }

                    plan.Prefetched.Add(chunk);
                    chunk.ApplySelection(); // a region query: the scan sees the records it selects
                    held += chunk.Length;
                    chunk.ForEach((discovery, _conversion.TagScanRecords), static (record, state) =>
                    {
                        if (state.discovery.RecordsScanned < state.TagScanRecords)
                        {
                            state.discovery.Observe(record);
                        }
                    }, checkValues: forConversion);
                }
            }

            faults.ThrowIfFaulted();
            plan.TagScanRecords = discovery.RecordsScanned;
            plan.TagScan = discovery;
            plan.Schema = BamArrowSchema.Create(reader.Header, _conversion, discovery, reader.FileName);
            if (_conversion.TagMode == TagMode.Explicit)
            {
                foreach (string tag in _conversion.Tags.Where(tag => !discovery.Saw(tag)))
                {
                    LogTagNotSeen(_logger, tag, discovery.RecordsScanned);
                }
            }
            return plan;
        }
        catch (Exception e) when (faults.Exception is not null && e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            plan.Dispose();
            faults.ThrowIfFaulted();
            throw;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The reader stack after <paramref name="reader"/>'s header: the rest of the file, or the ranges of a region query's
    /// passes, in order, with each range's selection (the pass it belongs to).
    /// </summary>
    private (BgzfSegmentReader Segments, BamRecordJoiner Joiner, RecordPredicate?[]? Selections, long RangeBytes) OpenBody(BamReader reader, IReadOnlyList<ReadPass>? passes)
    {
        BgzfRemainder body = reader.DetachBody();
        int maxReserve = _conversion.MaxBatchBytes / 2;
        if (passes is null or [{ Ranges: null }])
        {
            return (new BgzfSegmentReader(body.Frames, body.LastFrameWasEofMarker),
                new BamRecordJoiner(reader.MaxRecordSize, maxReserve, reader.FileName, body.Buffered, body.BufferedPosition),
                passes is null ? null : [passes[0].Keep], long.MaxValue);
        }

        if (!body.Frames.CanSeek)
        {
            body.Frames.Dispose();
            throw new IOException($"{reader.FileName ?? "the input"}: a region query needs a file it can seek in (an index gives offsets), not a pipe or a device");
        }

        var ranges = new List<BgzfRange>();
        var selections = new List<RecordPredicate?>();
        foreach (ReadPass pass in passes)
        {
            // A whole-file pass among others: the range from the first record (right after the header) to the end.
            foreach (BgzfRange range in pass.Ranges ?? [BgzfRange.ToEnd(body.BufferedPosition)])
            {
                ranges.Add(range);
                selections.Add(pass.Keep);
            }
        }

        long rangeBytes = ranges.Sum(range => range.End == BgzfRange.EndOfFile ? long.MaxValue / ranges.Count : Math.Max(0, range.End.CompressedOffset - range.Start.CompressedOffset) + BgzfFrame.MaxLength);
        return (new BgzfSegmentReader(body.Frames, ranges),
            new BamRecordJoiner(reader.MaxRecordSize, maxReserve, reader.FileName),
            selections.Count == 0 ? [null] : [.. selections], rangeBytes);
    }

    /// <summary>
    /// The segments' byte budget: a batch's bytes, or, for ranges holding fewer compressed bytes than sixteen segments per
    /// worker would (a region query of a few tens of MB), smaller segments, at least 1 MiB, so that every worker has
    /// segments to inflate from the start and the last ones end together (the fill and the drain of a short run).
    /// </summary>
    private int SegmentBudget(long rangeBytes, int threads)
    {
        const int InflationGuess = 3; // BAM data inflate to about three times their compressed size
        long wanted = rangeBytes == long.MaxValue ? long.MaxValue : rangeBytes * InflationGuess / (threads * 16L);
        return (int)Math.Clamp(wanted, Math.Min(1 << 20, _conversion.MaxBatchBytes), _conversion.MaxBatchBytes);
    }

    /// <summary>The tag scan holds at most this many batches' bytes of chunks (<see cref="ConversionOptions.MaxBatchBytes"/>).</summary>
    internal const int PlanBudgetBatches = 2;

    /// <summary>The slots (segment buffers) the tag scan may hold: its budget, and the segment its last chunk shares.</summary>
    private const int PlanSlots = PlanBudgetBatches + 2;

    /// <summary>
    /// The slots a run needs besides the planning's: one per conversion slot and per record stage's slot, one per worker
    /// inflating, and those between the stages (the reader's, the join's, the source's output, the feed's).
    /// </summary>
    private int RunSlots(int threads) => (_pipeline.EffectiveCapacity * (_stages.Count + 1)) + threads + 5;

    /// <summary>Converts every record of <paramref name="reader"/> into <paramref name="sink"/>.</summary>
    public async Task<ConversionSummary> RunAsync(BamReader reader, IRecordBatchSink sink, ConversionProgress? progress = null, CancellationToken cancellationToken = default)
    {
        using SchemaPlan plan = await PlanAsync(reader, cancellationToken).ConfigureAwait(false);
        return await RunAsync(plan, sink, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the graph's record stages over every record of <paramref name="reader"/> with no conversion and no
    /// output: for statistics (<see cref="Observe{T}"/>) and your own blocks. The summary counts the records
    /// that passed every filter.
    /// </summary>
    public async Task<ConversionSummary> RunAsync(BamReader reader, ConversionProgress? progress = null, CancellationToken cancellationToken = default)
    {
        using SchemaPlan plan = await PlanAsync(reader, forConversion: false, cancellationToken).ConfigureAwait(false);
        return await RunAsync(plan, null, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Converts the records of a planned run into <paramref name="sink"/> (null: run the record stages only).</summary>
    public async Task<ConversionSummary> RunAsync(SchemaPlan plan, IRecordBatchSink? sink, ConversionProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (sink is null && _batchStages.Count > 0)
        {
            throw new InvalidOperationException("blocks added with ThenBatches need a sink: a run without one builds no batches");
        }

        if (sink is not null)
        {
            plan.Schema.ThrowIfNotWritable();
        }

        progress ??= new ConversionProgress();
        using CancellationTokenRegistration link = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), plan.Stop);
        int workers = _pipeline.EffectiveThreads;
        var tally = new RunTally(
            [.. _stages.Select(stage => stage.Process is null ? null : new StageClock(stage.Name, workers))],
            new StageClock("convert", workers),
            new StageClock("write", 1),
            _logger);
        ColumnBufferPool pool = sink is { ReleasesBatchMemory: true } ? ColumnBufferPool.CreatePooling() : ColumnBufferPool.None;
        if (sink is not null)
        {
            await sink.StartAsync(plan.Schema.Schema, cancellationToken).ConfigureAwait(false);
        }

        RecordLimit? limit = _pipeline.Limit is { } n ? new RecordLimit(n) : null;
        (long records, long batches) = await RunGraphAsync(plan, sink, pool, progress, tally, limit).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (sink is not null)
        {
            await sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(plan.StartedAt);
        tally.ReportRest();
        bool missingEof = plan.Source.MissingEofMarker;
        if (missingEof)
        {
            LogMissingEof(_logger, plan.Reader.FileName ?? "input");
        }

        var summary = new ConversionSummary(
            records, batches, elapsed, plan.Source.CompressedBytesRead, _pipeline.EffectiveThreads,
            _pipeline.Sequential, missingEof, plan.Schema.HasTagsColumn ? plan.Schema.TagColumns.Count : 0)
        {
            // With the limit reached, the records read ahead of it were not looked at: they are not "read".
            RecordsRead = limit is { Reached: true } ? limit.RecordsThrough : plan.Source.RecordsRead,
            RecordsSkipped = tally.Skipped,
            Stages = [.. plan.Source.Clocks.Concat(tally.Stages.OfType<StageClock>()).Concat(sink is null ? [] : [tally.Convert, tally.Write]).Select(c => c.Snapshot(elapsed))],
            PeakManagedBytes = Math.Max(tally.PeakManagedBytes, GC.GetTotalMemory(forceFullCollection: false)),
            PeakProcessBytes = PeakProcessMemory(),
            PeakChunks = plan.Source.PeakChunksOut,
            PeakBatches = tally.PeakBatches,
        };
        LogFinished(_logger, summary.Records, summary.Batches, summary.Elapsed.TotalSeconds);
        return summary;
    }

    /// <summary>
    /// The graph, the same for every thread count: the source block, the record stages, the conversion (ordered,
    /// parallel, bounded) and the sink, all on the run's scheduler.
    /// </summary>
    private async Task<(long Records, long Batches)> RunGraphAsync(SchemaPlan plan, IRecordBatchSink? sink, ColumnBufferPool pool, ConversionProgress progress, RunTally tally, RecordLimit? limit)
    {
        FirstFault faults = plan.Faults;
        CancellationToken token = plan.Stop.Token;
        var builders = new ConcurrentBag<RecordBatchBuilder>();
        long records = 0, batches = 0;
        ExecutionDataflowBlockOptions Parallel() => new()
        {
            MaxDegreeOfParallelism = _pipeline.EffectiveThreads,
            EnsureOrdered = true,
            BoundedCapacity = _pipeline.EffectiveCapacity,
            SingleProducerConstrained = true,
            CancellationToken = token,
            TaskScheduler = plan.Scheduler,
        };
        var single = new ExecutionDataflowBlockOptions
        {
            MaxDegreeOfParallelism = 1,
            BoundedCapacity = _pipeline.SinkCapacity,
            SingleProducerConstrained = true,
            CancellationToken = token,
            TaskScheduler = plan.Scheduler,
        };

        // The record stages, in order: each a parallel ordered block (or the user's own); the limit (one worker, so it
        // counts in file order) after the last stage that may drop records. Once it is reached, the stages before it
        // have nothing left to do (it drops every later record) and the source stops reading.
        RecordSource source = plan.Source;
        int limitAfter = LimitAfterStage;
        var blocks = new List<IDataflowBlock>();
        ITargetBlock<RecordChunk>? head = null;
        ISourceBlock<RecordChunk>? tail = null;
        void Append(IPropagatorBlock<RecordChunk, RecordChunk> block)
        {
            tail?.LinkTo(block, new DataflowLinkOptions { PropagateCompletion = true });
            head ??= block;
            tail = block;
            blocks.Add(block);
        }

        for (int i = -1; i < _stages.Count; i++)
        {
            if (i >= 0)
            {
                RecordStage stage = _stages[i];
                StageClock? clock = tally.Stages[i];
                bool beforeLimit = i <= limitAfter;
                Append(stage.CreateBlock is { } create
                    ? create(Parallel())
                    : new TransformBlock<RecordChunk, RecordChunk>(
                        chunk => faults.Guard(() =>
                        {
                            if (!(beforeLimit && limit is { Reached: true }))
                            {
                                clock!.Time(() => stage.Process!(chunk));
                            }

                            return chunk;
                        }),
                        Parallel()));
            }

            if (i == limitAfter && limit is not null)
            {
                Append(new TransformBlock<RecordChunk, RecordChunk>(
                    chunk => faults.Guard(() =>
                    {
                        if (limit.Apply(chunk))
                        {
                            source.StopReading();
                        }

                        return chunk;
                    }),
                    new ExecutionDataflowBlockOptions
                    {
                        MaxDegreeOfParallelism = 1,
                        EnsureOrdered = true,
                        BoundedCapacity = _pipeline.EffectiveCapacity,
                        SingleProducerConstrained = true,
                        CancellationToken = token,
                        TaskScheduler = plan.Scheduler,
                    }));
            }
        }

        // The end of the graph: conversion and the sink, or (no sink) a counter that frees the chunks.
        ITargetBlock<RecordChunk> end;
        if (sink is null)
        {
            end = new ActionBlock<RecordChunk>(
                chunk =>
                {
                    records += chunk.KeptCount;
                    progress.OnRead(plan.Source.RecordsRead, plan.Source.CompressedBytesRead);
                    progress.OnWritten(chunk.KeptCount);
                    tally.Finish(chunk);
                },
                single);
            blocks.Add(end);
        }
        else
        {
            bool sinkTakesBatches = sink.Attach(new SinkContext(plan.Scheduler, _pipeline.EffectiveThreads, token, batch => Release(batch, sink, pool)));
            // Batches in memory: the conversion stage's capacity bounds the batches it holds, and the sink holds one
            // more. So that the one being written counts too, a conversion starts only when fewer than the capacity
            // are alive (converting, converted or being written): a worker writing is not converting, so this keeps
            // every worker busy and memory at the capacity's worth of batches. Not with blocks of the user's between
            // conversion and the sink (they may hold batches), nor for a sink that keeps them (it bounds its own).
            // (Not disposed: it has no wait handle, and a conversion may still be waiting on it when the run faults.)
            SemaphoreSlim? alive = _batchStages.Count == 0 && !sinkTakesBatches ? new(_pipeline.EffectiveCapacity) : null;
            // A record the conversion finds invalid fails the run in file order, not in the order the workers meet them:
            // its chunk's batch (the rows before it) goes on marked, and the writer, which takes batches in file order,
            // throws the error when it reaches it, after every batch before it was written.
            var invalid = new ConcurrentDictionary<RecordBatch, ExceptionDispatchInfo>(ReferenceEqualityComparer.Instance);
            RecordBatch ConvertChunk(RecordChunk chunk) => faults.Guard(() =>
            {
                tally.BatchStarted();
                RecordBatchBuilder builder = builders.TryTake(out RecordBatchBuilder? pooled) ? pooled : new RecordBatchBuilder(plan.Schema, pool);
                try
                {
                    return tally.Convert.Time(() => Convert(chunk, builder, tally));
                }
                catch (BamFormatException e)
                {
                    RecordBatch before = builder.Build();
                    invalid[before] = ExceptionDispatchInfo.Capture(e);
                    return before;
                }
                finally
                {
                    builders.Add(builder);
                }
            });
            var convert = alive is null
                ? new TransformBlock<RecordChunk, RecordBatch>(ConvertChunk, Parallel())
                : new TransformBlock<RecordChunk, RecordBatch>(
                    async chunk =>
                    {
                        try
                        {
                            await alive.WaitAsync(token).ConfigureAwait(true); // resume on the run's scheduler
                        }
                        catch (OperationCanceledException)
                        {
                            chunk.Release();
                            throw;
                        }

                        return ConvertChunk(chunk);
                    },
                    Parallel());
            var write = new ActionBlock<RecordBatch>(
                batch => faults.GuardAsync(async () =>
                {
                    if (invalid.TryRemove(batch, out ExceptionDispatchInfo? error))
                    {
                        Release(batch, sink, pool);
                        error.Throw(); // the first invalid record in file order: every batch before it is written
                    }

                    progress.OnRead(plan.Source.RecordsRead, plan.Source.CompressedBytesRead);
                    if (batch.Length > 0)
                    {
                        long start = Stopwatch.GetTimestamp();
                        tally.SamplePeakManaged();
                        await sink.WriteAsync(batch, token).ConfigureAwait(false);
                        tally.Write.Add(start);
                        progress.OnWritten(batch.Length);
                        records += batch.Length;
                        batches++;
                    }

                    if (!sinkTakesBatches || batch.Length == 0)
                    {
                        Release(batch, sink, pool);
                    }

                    tally.BatchDone();
                    alive?.Release();
                }),
                single);
            // The batch stages (the user's blocks between conversion and the sink), in order.
            ISourceBlock<RecordBatch> converted = convert;
            blocks.Add(convert);
            foreach (Func<ExecutionDataflowBlockOptions, IPropagatorBlock<RecordBatch, RecordBatch>> create in _batchStages)
            {
                IPropagatorBlock<RecordBatch, RecordBatch> block = create(Parallel());
                converted.LinkTo(block, new DataflowLinkOptions { PropagateCompletion = true });
                converted = block;
                blocks.Add(block);
            }

            converted.LinkTo(write, new DataflowLinkOptions { PropagateCompletion = true });
            end = convert;
            blocks.Add(write);
        }

        tail?.LinkTo(end, new DataflowLinkOptions { PropagateCompletion = true });
        head ??= end;
        foreach (IDataflowBlock block in blocks)
        {
            _ = block.Completion.ContinueWith(faults.Observe, TaskScheduler.Default);
        }

        // Blocks of the user's among the record stages may hold chunks: then the source must not wait for them.
        source.LimitSlots(_stages.All(stage => stage.CreateBlock is null) ? PlanSlots + RunSlots(_pipeline.EffectiveThreads) : int.MaxValue);

        // Feed the graph: first the chunks read while planning, then the source block's, in order. An error of the
        // input (a bad block, a cut record) comes after the chunks before it: it is reported only once they have all
        // been through the graph without an error of their own, so the run names the first error in file order.
        Exception? inputError = null;
        Task feed = Task.Run(
            async () =>
            {
                try
                {
                    while (await plan.NextAsync(token).ConfigureAwait(false) is { } chunk)
                    {
                        if (limit is { Reached: true })
                        {
                            chunk.Release(); // read ahead of the limit before the source stopped
                            continue;
                        }

                        if (!await head.SendAsync(chunk, token).ConfigureAwait(false))
                        {
                            chunk.Release();
                            break; // declined: the block faulted or was cancelled
                        }
                    }
                }
                catch (Exception e) when (!(e is OperationCanceledException && token.IsCancellationRequested))
                {
                    inputError = e;
                }
                finally
                {
                    head.Complete();
                }
            },
            CancellationToken.None);

        try
        {
            await Task.WhenAll([feed, plan.Source.Completion, .. blocks.Select(b => b.Completion)]).ConfigureAwait(false);
        }
        catch (Exception) when (faults.Exception is not null || token.IsCancellationRequested)
        {
            // Reported below: the original fault, or the caller's cancellation.
        }

        faults.ThrowIfFaulted();
        token.ThrowIfCancellationRequested();
        if (inputError is not null && limit is not { Reached: true }) // an error after the limit's records is not the run's
        {
            faults.Record(inputError); // stops what is left (nothing should be) and keeps the original stack
            faults.ThrowIfFaulted();
        }

        return (records, batches);
    }

    private static RecordBatch Convert(RecordChunk chunk, RecordBatchBuilder builder, RunTally tally)
    {
        try
        {
            // Only what is written must hold values Arrow can store exactly: statistics and filters see records as samtools does.
            chunk.ForEach(builder, static (record, b) => b.Append(record), checkValues: true);
            return builder.Build();
        }
        finally
        {
            tally.Finish(chunk);
        }
    }

    /// <summary>The process's peak resident memory so far: VmHWM of /proc/self/status on Linux, else the peak working set; 0 where unknown.</summary>
    private static long PeakProcessMemory()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                // "VmHWM:     43512 kB"
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long kilobytes))
                {
                    return kilobytes * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // not Linux
        }

        try
        {
            using var process = Process.GetCurrentProcess();
            return process.PeakWorkingSet64;
        }
        catch (PlatformNotSupportedException)
        {
            return 0;
        }
    }

    /// <summary>
    /// A run's bookkeeping: the tally of its own stages (null for a user block: the engine cannot time inside
    /// it), the peak managed heap, and the invalid records skipped under lenient validation.
    /// </summary>
    private sealed class RunTally(StageClock?[] stages, StageClock convert, StageClock write, ILogger logger)
    {
        private const int SkipWarnings = 20;   // then one line at the end for the rest
        private long _peakManaged;
        private long _skipped;
        private int _batches;       // converting, converted, or with the sink
        private int _peakBatches;

        public long Skipped => Interlocked.Read(ref _skipped);

        /// <summary>Warns about and counts the records <paramref name="chunk"/> skipped, then frees it.</summary>
        public void Finish(RecordChunk chunk)
        {
            foreach (BamRecordFormatException skipped in chunk.Skipped)
            {
                if (Interlocked.Increment(ref _skipped) <= SkipWarnings)
                {
                    LogSkipped(logger, skipped.Message);
                }
            }

            chunk.Release();
        }

        /// <summary>Says how many skipped records were not warned about one by one.</summary>
        public void ReportRest()
        {
            if (Skipped > SkipWarnings)
            {
                LogMoreSkipped(logger, Skipped - SkipWarnings, Skipped);
            }
        }

        public StageClock?[] Stages => stages;

        public StageClock Convert => convert;

        public StageClock Write => write;

        public long PeakManagedBytes => Interlocked.Read(ref _peakManaged);

        public int PeakBatches => Volatile.Read(ref _peakBatches);

        /// <summary>A conversion starts: its batch holds memory until <see cref="BatchDone"/>.</summary>
        public void BatchStarted()
        {
            int alive = Interlocked.Increment(ref _batches);
            int peak;
            while (alive > (peak = Volatile.Read(ref _peakBatches)) && Interlocked.CompareExchange(ref _peakBatches, alive, peak) != peak)
            {
            }
        }

        /// <summary>The sink is done with a batch (written, or handed to a sink that keeps it).</summary>
        public void BatchDone() => Interlocked.Decrement(ref _batches);

        /// <summary>Notes the managed heap's size (once per batch: when a batch is complete, before it is written).</summary>
        public void SamplePeakManaged()
        {
            long now = GC.GetTotalMemory(forceFullCollection: false);
            if (now > Interlocked.Read(ref _peakManaged))
            {
                Interlocked.Exchange(ref _peakManaged, now);
            }
        }
    }

    /// <summary>A record stage: a function the engine wraps in a parallel block, or a block of the user's.</summary>
    private sealed record RecordStage(string Name, Action<RecordChunk>? Process, Func<ExecutionDataflowBlockOptions, IPropagatorBlock<RecordChunk, RecordChunk>>? CreateBlock, bool Drops);

    /// <summary>
    /// Where <see cref="PipelineOptions.Limit"/> counts: after the last record stage that may drop records (a filter or
    /// a block of the user's), so the limit is on records that pass them; -1 (before every stage) when none may.
    /// </summary>
    private int LimitAfterStage => _stages.FindLastIndex(stage => stage.Drops);

    private static void Release(RecordBatch batch, IRecordBatchSink sink, ColumnBufferPool pool)
    {
        if (sink.ReleasesBatchMemory)
        {
            pool.Return(batch);
        }

        // Not batch.Dispose(): it would dispose the reference columns' dictionary too, which is the schema's, shared by
        // every batch. A batch with no rows (a filter dropped all of a chunk's records) that came before the first
        // written one then left the writer a disposed dictionary to write (a NullReferenceException inside Arrow).
        foreach (IArrowArray array in batch.Arrays)
        {
            (array is DictionaryArray dictionary ? dictionary.Indices : array).Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Converted {Records:N0} records in {Seconds:F2} s (record batches: {Batches:N0})")]
    private static partial void LogFinished(ILogger logger, long records, long batches, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "skipped an invalid record (lenient validation): {Reason}")]
    private static partial void LogSkipped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "skipped {More:N0} more invalid records (lenient validation), {Total:N0} in all")]
    private static partial void LogMoreSkipped(ILogger logger, long more, long total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "tag {Tag} was asked for but is in none of the {Records:N0} records of the tag scan: its column gets type 'mixed' (the values as SAM text); check the tag's name, or scan more records")]
    private static partial void LogTagNotSeen(ILogger logger, string tag, long records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{File}: EOF marker is absent. The input is probably truncated")]
    private static partial void LogMissingEof(ILogger logger, string file);
}

/// <summary>A started run whose schema is fixed: the reader, the schema, and the chunks already read to find it.</summary>
public sealed class SchemaPlan : IDisposable
{
    internal SchemaPlan(BamReader reader, RecordSource source, BamRecordJoiner joiner, TaskScheduler scheduler, CancellationTokenSource stop, FirstFault faults)
    {
        _joiner = joiner;
        Reader = reader;
        Source = source;
        Scheduler = scheduler;
        StartedAt = Stopwatch.GetTimestamp();
        Stop = stop;
        Faults = faults;
    }

    /// <summary>The reader (its header; its records are read by the engine).</summary>
    public BamReader Reader { get; }

    /// <summary>The schema every batch will have.</summary>
    public BamArrowSchema Schema { get; internal set; } = null!;

    private readonly BamRecordJoiner _joiner;

    internal RecordSource Source { get; }

    /// <summary>How many records the tag scan looked at (it stops at the scan's record count, or at its byte budget).</summary>
    public long TagScanRecords { get; internal set; }

    /// <summary>What the tag scan found (every tag of the scanned records, whatever the options keep).</summary>
    internal TagDiscovery TagScan { get; set; } = null!;

    /// <summary>When the run started reading (its wall time counts from here, the tag scan included).</summary>
    internal long StartedAt { get; }

    /// <summary>Where every block of the run executes (at most Threads at a time).</summary>
    internal TaskScheduler Scheduler { get; }

    internal CancellationTokenSource Stop { get; }

    internal FirstFault Faults { get; }

    internal List<RecordChunk> Prefetched { get; } = [];

    internal int ReferenceCount => Reader.Header.References.Count;

    /// <summary>The prefetched chunks, then the rest of the file; null at the end.</summary>
    internal async ValueTask<RecordChunk?> NextAsync(CancellationToken cancellationToken)
    {
        if (Prefetched.Count > 0)
        {
            RecordChunk first = Prefetched[0];
            Prefetched.RemoveAt(0);
            return first;
        }

        return await Source.NextAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the run's reading (if still going) and frees what it holds.</summary>
    public void Dispose()
    {
        Stop.Cancel();
        foreach (RecordChunk chunk in Prefetched)
        {
            chunk.Release();
        }

        Prefetched.Clear();
        Source.Dispose();
        _joiner.Dispose();
    }
}
