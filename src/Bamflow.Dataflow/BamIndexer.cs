using System.Buffers.Binary;
using System.Threading.Tasks.Dataflow;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Bgzf;

namespace Bamflow.Dataflow;

/// <summary>The kind of index <see cref="BamIndexer"/> writes.</summary>
public enum BamIndexFormat
{
    /// <summary>BAI (SAMv1 §5.2): min_shift 14, depth 5; references up to 2^29 − 1.</summary>
    Bai,

    /// <summary>CSI (CSIv1): any min_shift, the depth from the longest reference.</summary>
    Csi,
}

/// <summary>
/// Makes the index of a coordinate-sorted BAM file from one pass of the engine's reader stack (<c>bamflow index</c>):
/// BGZF blocks are read and inflated on <see cref="PipelineOptions.Threads"/> cores and each record, in file order, goes
/// to a <see cref="BamIndexBuilder"/>. The index is samtools index 1.16's, byte for byte (CSI: once inflated).
/// </summary>
public sealed class BamIndexer
{
    private const int BatchRecords = 1 << 16;
    private const int SegmentBytes = 4 << 20;
    private readonly PipelineOptions _options;
    private readonly Microsoft.Extensions.Logging.ILogger? _logger;

    /// <summary>An indexer running on <paramref name="options"/>' threads (and inflater and record size limit); <paramref name="logger"/> gets the reader's warnings.</summary>
    public BamIndexer(PipelineOptions? options = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        _options = options ?? new PipelineOptions();
        _options.Validate();
        _logger = logger;
    }

    /// <summary>
    /// Reads every record of <paramref name="reader"/> (opened on a file, nothing read yet) and returns the finished
    /// builder; write it with <see cref="BamIndexBuilder.WriteBai"/> or <see cref="BamIndexBuilder.WriteCsi"/>.
    /// </summary>
    /// <param name="reader">The BAM file, open, no record read.</param>
    /// <param name="format">BAI or CSI.</param>
    /// <param name="minShift">CSI's min_shift (samtools index -m; default 14). Ignored for BAI.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <exception cref="BamIndexBuildException">The file is not sorted as an index needs (samtools' verdict), or a position does not fit.</exception>
    /// <exception cref="BamFormatException">The file is malformed.</exception>
    public async Task<BamIndexBuilder> BuildAsync(BamReader reader, BamIndexFormat format, int minShift = 14, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string path = reader.FileName is { } name && name != "-" && File.Exists(name)
            ? name
            : throw new ArgumentException("an index is made for a BAM file, not a stream: the input must be a file", nameof(reader));
        IReadOnlyList<BamReference> references = reader.Header.References;
        BinningScheme scheme = format == BamIndexFormat.Csi ? BamIndexBuilder.CsiScheme(minShift, references.Select(r => r.Length)) : BinningScheme.Bai;
        var builder = new BamIndexBuilder(references.Count, scheme, format == BamIndexFormat.Csi, path);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var faults = new FirstFault(stop);
        int threads = _options.EffectiveThreads;
        TaskScheduler scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, threads).ConcurrentScheduler;
        BgzfRemainder body = reader.DetachBody();
        var segments = new BgzfSegmentReader(body.Frames, body.LastFrameWasEofMarker);
        using var joiner = new BamRecordJoiner(reader.MaxRecordSize, SegmentBytes / 2, path, body.Buffered, body.BufferedPosition);
        using var source = new RecordSource(segments, joiner, references.Count, _options.Inflater, scheduler, threads, BatchRecords, SegmentBytes, lenient: false, slots: (2 * threads) + 4, faults);
        var feeder = new Feeder(builder);
        try
        {
            // The loop runs on the run's workers too, so --threads N is N cores in all.
            await Task.Factory.StartNew(() => FeedAsync(source, feeder, scheduler, threads, faults), stop.Token, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            faults.Record(e);
            try
            {
                await source.Completion.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The first error is the one reported.
            }

            faults.ThrowIfFaulted();
            throw;
        }

        // Reading ends at the EOF marker block (htslib's bgzf_tell after the last record), or at the end of the file.
        long dataEnd = new FileInfo(path).Length - (source.MissingEofMarker ? 0 : BgzfWriter.EofMarker.Length);
        feeder.Finish(new VirtualPosition(Math.Max(0, dataEnd), 0));
        return builder;
    }

    /// <summary>
    /// Indexes the BAM file <paramref name="bamPath"/> into <paramref name="indexPath"/>: written under a temporary name and
    /// renamed only once complete, so a failure leaves no file and an existing index untouched.
    /// </summary>
    /// <returns>The number of records indexed.</returns>
    public async Task<long> WriteAsync(string bamPath, string indexPath, BamIndexFormat format, int minShift = 14, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bamPath);
        ArgumentException.ThrowIfNullOrEmpty(indexPath);
        if (FileIdentity.AreSame(bamPath, indexPath))
        {
            throw new ArgumentException($"the index '{indexPath}' would be written over the BAM file '{bamPath}'", nameof(indexPath));
        }

        BamIndexBuilder builder;
        using (BamReader reader = BamReader.Open(bamPath, _logger))
        {
            builder = await BuildAsync(reader, format, minShift, cancellationToken).ConfigureAwait(false);
        }

        OutputTarget output = OutputTarget.Open(indexPath);
        await using (output.ConfigureAwait(false))
        {
            if (format == BamIndexFormat.Csi)
            {
                builder.WriteCsi(output.Stream);
            }
            else
            {
                builder.WriteBai(output.Stream);
            }

            await output.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return builder.RecordCount;
    }

    /// <summary>
    /// Takes the chunks in file order; an ordered block reads each one's records (validated, their end positions from the
    /// CIGAR) on every worker into a <see cref="Batch"/>; one step, in file order, feeds them to the builder.
    /// </summary>
    private static async Task FeedAsync(RecordSource source, Feeder feeder, TaskScheduler scheduler, int threads, FirstFault faults)
    {
        var batches = new System.Collections.Concurrent.ConcurrentBag<Batch>();
        var extract = new TransformBlock<RecordChunk, Batch>(chunk =>
        {
            Batch batch = batches.TryTake(out Batch? free) ? free : new Batch();
            try
            {
                batch.Fill(chunk);
            }
            catch (Exception e)
            {
                faults.Record(e); // stops the pump and the source at once
                throw;
            }
            finally
            {
                chunk.Release();
            }

            return batch;
        }, new ExecutionDataflowBlockOptions
        {
            MaxDegreeOfParallelism = threads,
            EnsureOrdered = true,
            BoundedCapacity = threads + 1,
            SingleProducerConstrained = true,
            CancellationToken = faults.Token,
            TaskScheduler = scheduler,
        });
        var feed = new ActionBlock<Batch>(batch =>
        {
            try
            {
                feeder.Add(batch);
            }
            catch (Exception e)
            {
                faults.Record(e); // stops the pump and the source at once
                throw;
            }
            finally
            {
                batches.Add(batch);
            }
        }, new ExecutionDataflowBlockOptions
        {
            MaxDegreeOfParallelism = 1,
            BoundedCapacity = 2,
            SingleProducerConstrained = true,
            CancellationToken = faults.Token,
            TaskScheduler = scheduler,
        });
        extract.LinkTo(feed, new DataflowLinkOptions { PropagateCompletion = true });

        // ConfigureAwait(true): the pump stays on the run's scheduler.
        while (await source.NextAsync(faults.Token).ConfigureAwait(true) is { } chunk)
        {
            if (!await extract.SendAsync(chunk, faults.Token).ConfigureAwait(true))
            {
                chunk.Release();
                break;
            }
        }

        extract.Complete();
        await feed.Completion.ConfigureAwait(true);
    }

    /// <summary>What the index needs of each record of a chunk, read on any worker.</summary>
    private sealed class Batch
    {
        public int Count;
        public int[] References = new int[1024];
        public long[] Begins = new long[1024];
        public long[] Ends = new long[1024];
        public bool[] Mapped = new bool[1024];
        public VirtualPosition[] Starts = new VirtualPosition[1024];

        /// <summary>The error of a record of the chunk (after the records before it), raised in file order by the feed.</summary>
        public Exception? Error;

        public void Fill(RecordChunk chunk)
        {
            if (References.Length < chunk.Count)
            {
                int size = Math.Max(chunk.Count, References.Length * 2);
                References = new int[size];
                Begins = new long[size];
                Ends = new long[size];
                Mapped = new bool[size];
                Starts = new VirtualPosition[size];
            }

            Count = 0;
            Error = null;
            ReadOnlySpan<byte> data = chunk.Data;
            int offset = 0;
            for (int i = 0; i < chunk.Count; i++)
            {
                int size = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
                if (!BamIndexBuilder.TryReadPlacement(data.Slice(offset + 4, size), chunk.ReferenceCount, out References[i], out Begins[i], out Ends[i], out Mapped[i]))
                {
                    // The slow path: validate the record (the error names it), and read a CIGAR kept in the CG tag.
                    BamRecordError error = BamRecord.TryCreate(data.Slice(offset + 4, size), chunk.ReferenceCount, out BamRecord record);
                    if (error != BamRecordError.None)
                    {
                        Error = BamRecordFormatException.Invalid(error, data.Slice(offset + 4, size), chunk.ReferenceCount, chunk.FileName, chunk.FirstRecordIndex + i, chunk.PositionOf(i));
                        break;
                    }

                    Add(i, record);
                }

                Starts[i] = chunk.PositionOf(i);
                Count = i + 1;
                offset += 4 + size;
            }
        }

        private void Add(int i, BamRecord record)
        {
            int referenceId = record.ReferenceId;
            References[i] = referenceId;
            Begins[i] = record.Position;
            Ends[i] = record.EndPosition;
            Mapped[i] = (record.Flag & 0x4) == 0; // BAM_FUNMAP
        }
    }

    /// <summary>
    /// Feeds records to the builder one behind: a record's end is where the next one starts (the next chunk's first for
    /// the last of a chunk; the end of the data for the last of all).
    /// </summary>
    private sealed class Feeder(BamIndexBuilder builder)
    {
        private bool _pending;
        private int _referenceId;
        private long _begin;
        private long _end;
        private bool _mapped;
        private VirtualPosition _start;

        public void Add(Batch batch)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                VirtualPosition start = batch.Starts[i];
                if (_pending)
                {
                    builder.Add(_referenceId, _begin, _end, _mapped, _start, start);
                }

                _pending = true;
                _referenceId = batch.References[i];
                _begin = batch.Begins[i];
                _end = batch.Ends[i];
                _mapped = batch.Mapped[i];
                _start = start;
            }

            if (batch.Error is { } error)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
        }

        public void Finish(VirtualPosition end)
        {
            if (_pending)
            {
                builder.Add(_referenceId, _begin, _end, _mapped, _start, end);
                _pending = false;
            }

            builder.Finish(end);
        }
    }
}
