using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bamflow.Dataflow;

/// <summary>
/// The conversion engine: the sequential BAM reader feeds chunks of records into a bounded
/// <see cref="TransformBlock{TInput,TOutput}"/> (<c>MaxDegreeOfParallelism</c> = threads, <c>EnsureOrdered</c>)
/// that turns each into a <see cref="RecordBatch"/>, linked to an <see cref="ActionBlock{TInput}"/> that hands
/// them, in file order, to an <see cref="IRecordBatchSink"/>. Memory is bounded by the blocks' capacities,
/// whatever the file size. A fault anywhere stops the reader and completes every block; the caller gets that
/// original exception.
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
    /// Reads the leading records (up to the tag scan, or the limit) and fixes the schema. The chunks read stay
    /// in the returned plan, so nothing is read twice and a pipe works.
    /// </summary>
    public SchemaPlan Plan(BamReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var chunker = new RecordChunker(reader, _conversion.BatchSize, _conversion.MaxBatchBytes, _pipeline.Limit);
        var discovery = new TagDiscovery();
        var prefetched = new List<RecordChunk>();
        int referenceCount = reader.Header.References.Count;
        if (_conversion.TagMode != TagMode.None)
        {
            while (discovery.RecordsScanned < _conversion.TagScanRecords && chunker.Next() is { } chunk)
            {
                prefetched.Add(chunk);
                chunk.ForEach(referenceCount, (discovery, _conversion.TagScanRecords), static (record, state) =>
                {
                    if (state.discovery.RecordsScanned < state.TagScanRecords)
                    {
                        state.discovery.Observe(record);
                    }
                });
            }
        }

        var schema = BamArrowSchema.Create(reader.Header, _conversion, discovery, reader.FileName);
        return new SchemaPlan(reader, schema, chunker, prefetched);
    }

    /// <summary>Converts every record of <paramref name="reader"/> into <paramref name="sink"/>.</summary>
    public async Task<ConversionSummary> RunAsync(BamReader reader, IRecordBatchSink sink, ConversionProgress? progress = null, CancellationToken cancellationToken = default)
    {
        SchemaPlan plan = Plan(reader);
        return await RunAsync(plan, sink, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Converts the records of a planned run into <paramref name="sink"/>.</summary>
    public async Task<ConversionSummary> RunAsync(SchemaPlan plan, IRecordBatchSink sink, ConversionProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(sink);
        progress ??= new ConversionProgress();
        var stopwatch = Stopwatch.StartNew();
        await sink.StartAsync(plan.Schema.Schema, cancellationToken).ConfigureAwait(false);
        (long records, long batches) = _pipeline.Sequential
            ? await RunSequentialAsync(plan, sink, progress, cancellationToken).ConfigureAwait(false)
            : await RunParallelAsync(plan, sink, progress, cancellationToken).ConfigureAwait(false);
        await sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
        stopwatch.Stop();
        var summary = new ConversionSummary(
            records, batches, stopwatch.Elapsed, plan.Reader.CompressedBytesRead, _pipeline.Sequential ? 1 : _pipeline.Threads,
            _pipeline.Sequential, plan.Reader.MissingEofMarker, plan.Schema.HasTagsColumn ? plan.Schema.TagColumns.Count : 0);
        LogFinished(_logger, summary.Records, summary.Batches, summary.Elapsed.TotalSeconds);
        return summary;
    }

    /// <summary>One thread, no blocks: read a chunk, build its batch, write it.</summary>
    private static async Task<(long Records, long Batches)> RunSequentialAsync(SchemaPlan plan, IRecordBatchSink sink, ConversionProgress progress, CancellationToken cancellationToken)
    {
        var builder = new RecordBatchBuilder(plan.Schema);
        long records = 0, batches = 0;
        foreach (RecordChunk chunk in plan.Chunks(cancellationToken))
        {
            progress.OnRead(plan.Chunker.RecordsRead, plan.Reader.CompressedBytesRead);
            using RecordBatch batch = Convert(chunk, builder, plan.ReferenceCount);
            await sink.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            progress.OnWritten(batch.Length);
            records += batch.Length;
            batches++;
        }

        return (records, batches);
    }

    private async Task<(long Records, long Batches)> RunParallelAsync(SchemaPlan plan, IRecordBatchSink sink, ConversionProgress progress, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var faults = new FirstFault(stop);
        var builders = new ConcurrentBag<RecordBatchBuilder>();
        long records = 0, batches = 0;

        var convert = new TransformBlock<RecordChunk, RecordBatch>(
            chunk => faults.Guard(() =>
            {
                RecordBatchBuilder builder = builders.TryTake(out RecordBatchBuilder? pooled) ? pooled : new RecordBatchBuilder(plan.Schema);
                try
                {
                    return Convert(chunk, builder, plan.ReferenceCount);
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
                CancellationToken = stop.Token,
            });

        var write = new ActionBlock<RecordBatch>(
            async batch =>
            {
                using (batch)
                {
                    await faults.GuardAsync(() => sink.WriteAsync(batch, stop.Token)).ConfigureAwait(false);
                }

                progress.OnWritten(batch.Length);
                records += batch.Length;
                batches++;
            },
            new ExecutionDataflowBlockOptions
            {
                MaxDegreeOfParallelism = 1,
                BoundedCapacity = _pipeline.SinkCapacity,
                SingleProducerConstrained = true,
                CancellationToken = stop.Token,
            });

        convert.LinkTo(write, new DataflowLinkOptions { PropagateCompletion = true });
        _ = convert.Completion.ContinueWith(t => faults.Observe(t), TaskScheduler.Default);
        _ = write.Completion.ContinueWith(t => faults.Observe(t), TaskScheduler.Default);

        // The source: the sequential reader, on its own thread, posting with backpressure.
        Task source = Task.Run(
            async () =>
            {
                try
                {
                    foreach (RecordChunk chunk in plan.Chunks(stop.Token))
                    {
                        progress.OnRead(plan.Chunker.RecordsRead, plan.Reader.CompressedBytesRead);
                        if (!await convert.SendAsync(chunk, stop.Token).ConfigureAwait(false))
                        {
                            break; // declined: the block faulted or was cancelled
                        }
                    }
                }
                catch (Exception e) when (!(e is OperationCanceledException && stop.IsCancellationRequested))
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
            await Task.WhenAll(source, convert.Completion, write.Completion).ConfigureAwait(false);
        }
        catch (Exception) when (faults.Exception is not null || cancellationToken.IsCancellationRequested)
        {
            // Reported below: the original fault, or the caller's cancellation.
        }

        faults.ThrowIfFaulted();
        cancellationToken.ThrowIfCancellationRequested();
        return (records, batches);
    }

    private static RecordBatch Convert(RecordChunk chunk, RecordBatchBuilder builder, int referenceCount)
    {
        chunk.ForEach(referenceCount, builder, static (record, b) => b.Append(record));
        return builder.Build();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Converted {Records} records into {Batches} batches in {Seconds:F2} s")]
    private static partial void LogFinished(ILogger logger, long records, long batches, double seconds);

    /// <summary>Keeps the first real exception of a run and stops everything when one happens.</summary>
    private sealed class FirstFault(CancellationTokenSource stop)
    {
        private ExceptionDispatchInfo? _first;

        public Exception? Exception => _first?.SourceException;

        public void Record(Exception exception)
        {
            if (Interlocked.CompareExchange(ref _first, ExceptionDispatchInfo.Capture(exception), null) is null)
            {
                stop.Cancel();
            }
        }

        public void Observe(Task completion)
        {
            if (completion.IsFaulted && completion.Exception is { } aggregate)
            {
                Record(aggregate.Flatten().InnerExceptions[0]);
            }
        }

        /// <summary>
        /// Runs block code; a failure is recorded and rethrown, and an <see cref="OperationCanceledException"/> that
        /// is not our cancellation is wrapped, because Dataflow silently drops an item whose delegate throws one.
        /// </summary>
        public T Guard<T>(Func<T> body)
        {
            try
            {
                return body();
            }
            catch (OperationCanceledException e) when (!stop.IsCancellationRequested)
            {
                var wrapped = new InvalidOperationException("a pipeline stage was cancelled unexpectedly", e);
                Record(wrapped);
                throw wrapped;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Record(e);
                throw;
            }
        }

        public async Task GuardAsync(Func<Task> body)
        {
            try
            {
                await body().ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!stop.IsCancellationRequested)
            {
                var wrapped = new InvalidOperationException("a pipeline stage was cancelled unexpectedly", e);
                Record(wrapped);
                throw wrapped;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Record(e);
                throw;
            }
        }

        public void ThrowIfFaulted() => _first?.Throw();
    }
}

/// <summary>A run whose schema is fixed: the reader, the schema, and the chunks already read to find it.</summary>
public sealed class SchemaPlan
{
    private readonly List<RecordChunk> _prefetched;

    internal SchemaPlan(BamReader reader, BamArrowSchema schema, RecordChunker chunker, List<RecordChunk> prefetched)
    {
        Reader = reader;
        Schema = schema;
        Chunker = chunker;
        _prefetched = prefetched;
    }

    /// <summary>The reader.</summary>
    public BamReader Reader { get; }

    /// <summary>The schema every batch will have.</summary>
    public BamArrowSchema Schema { get; }

    internal RecordChunker Chunker { get; }

    internal int ReferenceCount => Reader.Header.References.Count;

    /// <summary>The prefetched chunks, then the rest of the file.</summary>
    internal IEnumerable<RecordChunk> Chunks(CancellationToken cancellationToken)
    {
        foreach (RecordChunk chunk in _prefetched)
        {
            yield return chunk;
        }

        _prefetched.Clear();
        while (Chunker.Next(cancellationToken) is { } chunk)
        {
            yield return chunk;
        }
    }
}
