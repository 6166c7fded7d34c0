using System.Diagnostics;
using System.Collections.Concurrent;
using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bamflow.Dataflow;

/// <summary>
/// The conversion engine. The sequential frame reader feeds an ordered parallel inflate stage; a chunker cuts the
/// inflated stream into chunks of records, into a bounded source block; a bounded <see cref="TransformBlock{TInput,TOutput}"/>
/// (<c>MaxDegreeOfParallelism</c> = threads, <c>EnsureOrdered</c>) turns each chunk into a <see cref="RecordBatch"/>;
/// an <see cref="ActionBlock{TInput}"/> hands them, in file order, to an <see cref="IRecordBatchSink"/>. Memory is
/// bounded by the blocks' capacities, whatever the file size. A fault anywhere stops the reader and completes every
/// block; the caller gets that original exception.
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

    /// <summary>
    /// Starts reading <paramref name="reader"/>'s records and fixes the schema from the leading ones (the tag scan).
    /// The chunks read for that stay in the plan, so nothing is read twice and a pipe works. Dispose the plan if
    /// it is not run.
    /// </summary>
    public async Task<SchemaPlan> PlanAsync(BamReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var faults = new FirstFault(stop);

        // Every block of the run shares one scheduler of Threads workers: --threads is the number of cores the
        // conversion uses, whatever stage (inflate, chunk, convert, write) needs them at the moment.
        TaskScheduler scheduler = _pipeline.Sequential
            ? TaskScheduler.Default
            : new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, _pipeline.Threads).ConcurrentScheduler;
        IChunkSource source = _pipeline.Sequential
            ? new SequentialChunkSource(reader, new RecordChunker(reader, _conversion.BatchSize, _conversion.MaxBatchBytes, _pipeline.Limit))
            : new ParallelRecordSource(reader.DetachBody(), reader.FileName, _pipeline.Inflater, scheduler, _pipeline.Threads, _conversion.BatchSize, _conversion.MaxBatchBytes, _pipeline.Limit, faults);
        var plan = new SchemaPlan(reader, source, scheduler, stop, faults);
        try
        {
            var discovery = new TagDiscovery();
            int referenceCount = reader.Header.References.Count;
            if (_conversion.TagMode != TagMode.None)
            {
                while (discovery.RecordsScanned < _conversion.TagScanRecords && await source.NextAsync(stop.Token).ConfigureAwait(false) is { } chunk)
                {
                    plan.Prefetched.Add(chunk);
                    chunk.ForEach(referenceCount, reader.FileName, (discovery, _conversion.TagScanRecords), static (record, state) =>
                    {
                        if (state.discovery.RecordsScanned < state.TagScanRecords)
                        {
                            state.discovery.Observe(record);
                        }
                    });
                }
            }

            faults.ThrowIfFaulted();
            plan.Schema = BamArrowSchema.Create(reader.Header, _conversion, discovery, reader.FileName);
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

    /// <summary>Converts every record of <paramref name="reader"/> into <paramref name="sink"/>.</summary>
    public async Task<ConversionSummary> RunAsync(BamReader reader, IRecordBatchSink sink, ConversionProgress? progress = null, CancellationToken cancellationToken = default)
    {
        using SchemaPlan plan = await PlanAsync(reader, cancellationToken).ConfigureAwait(false);
        return await RunAsync(plan, sink, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Converts the records of a planned run into <paramref name="sink"/>.</summary>
    public async Task<ConversionSummary> RunAsync(SchemaPlan plan, IRecordBatchSink sink, ConversionProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(sink);
        progress ??= new ConversionProgress();
        using CancellationTokenRegistration link = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), plan.Stop);
        var stopwatch = Stopwatch.StartNew();
        ColumnBufferPool pool = sink.ReleasesBatchMemory ? ColumnBufferPool.CreatePooling() : ColumnBufferPool.None;
        await sink.StartAsync(plan.Schema.Schema, cancellationToken).ConfigureAwait(false);
        (long records, long batches) = _pipeline.Sequential
            ? await RunSequentialAsync(plan, sink, pool, progress).ConfigureAwait(false)
            : await RunParallelAsync(plan, sink, pool, progress).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
        stopwatch.Stop();
        bool missingEof = plan.Source.MissingEofMarker;
        if (missingEof && !_pipeline.Sequential)
        {
            LogMissingEof(_logger, plan.Reader.FileName ?? "input"); // the sequential reader warns itself
        }

        var summary = new ConversionSummary(
            records, batches, stopwatch.Elapsed, plan.Source.CompressedBytesRead, _pipeline.Sequential ? 1 : _pipeline.Threads,
            _pipeline.Sequential, missingEof, plan.Schema.HasTagsColumn ? plan.Schema.TagColumns.Count : 0);
        LogFinished(_logger, summary.Records, summary.Batches, summary.Elapsed.TotalSeconds);
        return summary;
    }

    /// <summary>One thread, no blocks: read a chunk, build its batch, write it.</summary>
    private static async Task<(long Records, long Batches)> RunSequentialAsync(SchemaPlan plan, IRecordBatchSink sink, ColumnBufferPool pool, ConversionProgress progress)
    {
        var builder = new RecordBatchBuilder(plan.Schema, pool);
        long records = 0, batches = 0;
        CancellationToken token = plan.Stop.Token;
        try
        {
            while (await plan.NextAsync(token).ConfigureAwait(false) is { } chunk)
            {
                progress.OnRead(plan.Source.RecordsRead, plan.Source.CompressedBytesRead);
                RecordBatch batch = Convert(chunk, builder, plan);
                await sink.WriteAsync(batch, token).ConfigureAwait(false);
                Release(batch, sink, pool);
                progress.OnWritten(batch.Length);
                records += batch.Length;
                batches++;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            plan.Faults.Record(e);
        }

        plan.Faults.ThrowIfFaulted();
        token.ThrowIfCancellationRequested();
        return (records, batches);
    }

    private async Task<(long Records, long Batches)> RunParallelAsync(SchemaPlan plan, IRecordBatchSink sink, ColumnBufferPool pool, ConversionProgress progress)
    {
        FirstFault faults = plan.Faults;
        CancellationToken token = plan.Stop.Token;
        var builders = new ConcurrentBag<RecordBatchBuilder>();
        long records = 0, batches = 0;

        var convert = new TransformBlock<RecordChunk, RecordBatch>(
            chunk => faults.Guard(() =>
            {
                RecordBatchBuilder builder = builders.TryTake(out RecordBatchBuilder? pooled) ? pooled : new RecordBatchBuilder(plan.Schema, pool);
                try
                {
                    return Convert(chunk, builder, plan);
                }
                finally
                {
                    builders.Add(builder);
                }
            }),
            new ExecutionDataflowBlockOptions
            {
                MaxDegreeOfParallelism = _pipeline.Threads,
                EnsureOrdered = true,
                BoundedCapacity = _pipeline.EffectiveCapacity,
                SingleProducerConstrained = true,
                CancellationToken = token,
                TaskScheduler = plan.Scheduler,
            });

        var write = new ActionBlock<RecordBatch>(
            batch => faults.GuardAsync(async () =>
            {
                progress.OnRead(plan.Source.RecordsRead, plan.Source.CompressedBytesRead);
                await sink.WriteAsync(batch, token).ConfigureAwait(false);
                Release(batch, sink, pool);
                progress.OnWritten(batch.Length);
                records += batch.Length;
                batches++;
            }),
            new ExecutionDataflowBlockOptions
            {
                MaxDegreeOfParallelism = 1,
                BoundedCapacity = _pipeline.SinkCapacity,
                SingleProducerConstrained = true,
                CancellationToken = token,
                TaskScheduler = plan.Scheduler,
            });

        convert.LinkTo(write, new DataflowLinkOptions { PropagateCompletion = true });
        _ = convert.Completion.ContinueWith(faults.Observe, TaskScheduler.Default);
        _ = write.Completion.ContinueWith(faults.Observe, TaskScheduler.Default);

        // Feed the conversion stage: first the chunks read while planning, then the source block's, in order.
        Task feed = Task.Run(
            async () =>
            {
                try
                {
                    while (await plan.NextAsync(token).ConfigureAwait(false) is { } chunk)
                    {
                        if (!await convert.SendAsync(chunk, token).ConfigureAwait(false))
                        {
                            chunk.Release();
                            break; // declined: the block faulted or was cancelled
                        }
                    }
                }
                catch (Exception e) when (!(e is OperationCanceledException && token.IsCancellationRequested))
                {
                    faults.Record(e);
                }
                finally
                {
                    convert.Complete();
                }
            },
            CancellationToken.None);

        try
        {
            await Task.WhenAll(feed, convert.Completion, write.Completion, plan.Source is ParallelRecordSource p ? p.Completion : Task.CompletedTask).ConfigureAwait(false);
        }
        catch (Exception) when (faults.Exception is not null || token.IsCancellationRequested)
        {
            // Reported below: the original fault, or the caller's cancellation.
        }

        faults.ThrowIfFaulted();
        token.ThrowIfCancellationRequested();
        return (records, batches);
    }

    private static RecordBatch Convert(RecordChunk chunk, RecordBatchBuilder builder, SchemaPlan plan)
    {
        try
        {
            chunk.ForEach(plan.ReferenceCount, plan.Reader.FileName, builder, static (record, b) => b.Append(record));
            return builder.Build();
        }
        finally
        {
            chunk.Release();
        }
    }

    private static void Release(RecordBatch batch, IRecordBatchSink sink, ColumnBufferPool pool)
    {
        if (sink.ReleasesBatchMemory)
        {
            pool.Return(batch);
        }

        batch.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Converted {Records} records into {Batches} batches in {Seconds:F2} s")]
    private static partial void LogFinished(ILogger logger, long records, long batches, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{File}: EOF marker is absent. The input is probably truncated")]
    private static partial void LogMissingEof(ILogger logger, string file);
}

/// <summary>A started run whose schema is fixed: the reader, the schema, and the chunks already read to find it.</summary>
public sealed class SchemaPlan : IDisposable
{
    internal SchemaPlan(BamReader reader, IChunkSource source, TaskScheduler scheduler, CancellationTokenSource stop, FirstFault faults)
    {
        Reader = reader;
        Source = source;
        Scheduler = scheduler;
        Stop = stop;
        Faults = faults;
    }

    /// <summary>The reader (its header; its records are read by the engine).</summary>
    public BamReader Reader { get; }

    /// <summary>The schema every batch will have.</summary>
    public BamArrowSchema Schema { get; internal set; } = null!;

    internal IChunkSource Source { get; }

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
    }
}
