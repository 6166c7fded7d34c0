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

    /// <summary>An indexer running on <paramref name="options"/>' threads (and inflater and record size limit).</summary>
    public BamIndexer(PipelineOptions? options = null)
    {
        _options = options ?? new PipelineOptions();
        _options.Validate();
    }

    /// <summary>
    /// Reads every record of <paramref name="reader"/> (opened on a file, nothing read yet) and returns the finished
    /// builder; write it with <see cref="BamIndexBuilder.WriteBai"/> or <see cref="BamIndexBuilder.WriteCsi"/>.
    /// </summary>
    /// <param name="reader">The BAM file, open, no record read.</param>
    /// <param name="format">BAI or CSI.</param>
    /// <param name="minShift">CSI's min_shift (samtools index -m; default 14). Ignored for BAI.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <exception cref="BamIndexException">The file is not sorted as an index needs (samtools' verdict), or a position does not fit.</exception>
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
            await Task.Factory.StartNew(() => FeedAsync(source, feeder, stop.Token), stop.Token, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap().ConfigureAwait(false);
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
        BamIndexBuilder builder;
        using (BamReader reader = BamReader.Open(bamPath, inflater: null))
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

    /// <summary>Takes the chunks in file order and feeds their records to the builder.</summary>
    private static async Task FeedAsync(RecordSource source, Feeder feeder, CancellationToken token)
    {
        // ConfigureAwait(true): stay on the run's scheduler.
        while (await source.NextAsync(token).ConfigureAwait(true) is { } chunk)
        {
            try
            {
                feeder.Chunk = chunk;
                feeder.Index = 0;
                chunk.ForEach(feeder, static (record, f) => f.Add(record));
            }
            finally
            {
                chunk.Release();
            }
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

        public RecordChunk? Chunk;
        public int Index;

        public void Add(BamRecord record)
        {
            VirtualPosition start = Chunk!.PositionOf(Index++);
            if (_pending)
            {
                builder.Add(_referenceId, _begin, _end, _mapped, _start, start);
            }

            _pending = true;
            _referenceId = record.ReferenceId;
            _begin = record.Position;
            _end = record.ReferenceId >= 0 ? record.EndPosition : 0;
            _mapped = (record.Flag & 0x4) == 0; // BAM_FUNMAP
            _start = start;
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
