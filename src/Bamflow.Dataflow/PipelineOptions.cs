namespace Bamflow.Dataflow;

/// <summary>How strictly records are checked, as htsjdk's validation stringency.</summary>
public enum ValidationMode
{
    /// <summary>The first invalid record stops the run with a <see cref="Bamflow.Bam.BamRecordFormatException"/>.</summary>
    Strict,

    /// <summary>
    /// An invalid record whose framing (block_size) is intact is skipped with a warning and counted
    /// (<see cref="ConversionSummary.RecordsSkipped"/>); damage that loses the framing (a corrupt or truncated
    /// BGZF block, a block_size too small) still stops the run, because nothing after it can be trusted.
    /// </summary>
    Lenient,
}

/// <summary>How the engine runs. Immutable once handed over.</summary>
public sealed record PipelineOptions
{
    /// <summary>
    /// Cores the run may use: every block (inflate and record walk, record stages, convert, writer) executes on one
    /// scheduler with this many workers, and each parallel stage may use all of them. Default: every core. The reader
    /// (I/O only: it copies compressed blocks) runs on those workers too when the input is a regular file; for a pipe
    /// or device it runs on a thread of its own, free to wait for input without holding a worker.
    /// </summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The memory budget: the batches that may exist at once (converting, converted, or being written), and the
    /// capacity of every parallel block. The source keeps at most this + 1 + the thread count segments (chunk buffers)
    /// out. Blocks of your own lift the bound on what they may hold (<see cref="ConversionSummary.PeakChunks"/>,
    /// <see cref="ConversionSummary.PeakBatches"/>).
    /// Default: the thread count (at least 2).
    /// </summary>
    public int? BoundedCapacity { get; init; }

    /// <summary>Batches the sink may have queued. Default 1.</summary>
    public int SinkCapacity { get; init; } = 1;

    /// <summary>The inflate backend for the parallel inflate stage.</summary>
    public Bamflow.Bgzf.BgzfInflaterKind Inflater { get; init; } = Bamflow.Bgzf.BgzfInflaterKind.Auto;

    /// <summary>
    /// Convert only the first this-many records that pass the record stages that may drop records (the filters added
    /// with <c>Where</c>, the blocks added with <c>Then</c>): counted after the last of them, in file order, whatever
    /// the thread count; reading stops once they are found. The tag scan does not depend on it, so a run with a limit
    /// has the schema of the full run.
    /// </summary>
    public long? Limit { get; init; }

    /// <summary>What an invalid record does to the run (default <see cref="ValidationMode.Strict"/>).</summary>
    public ValidationMode Validation { get; init; } = ValidationMode.Strict;

    /// <summary>
    /// The single-core baseline: the same graph with <see cref="Threads"/> = 1 (kept for scripts written for the
    /// separate sequential engine of earlier versions, which is gone).
    /// </summary>
    public bool Sequential { get; init; }

    /// <summary>The threads the run uses: 1 with <see cref="Sequential"/>, else <see cref="Threads"/>.</summary>
    public int EffectiveThreads => Sequential ? 1 : Threads;

    /// <summary>The effective conversion-stage capacity.</summary>
    public int EffectiveCapacity => BoundedCapacity ?? Math.Max(2, EffectiveThreads);

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Threads < 1)
        {
            throw new ArgumentException($"threads must be at least 1 (got {Threads})", nameof(Threads));
        }

        if (BoundedCapacity is < 1)
        {
            throw new ArgumentException($"capacity must be at least 1 (got {BoundedCapacity})", nameof(BoundedCapacity));
        }

        if (SinkCapacity < 1)
        {
            throw new ArgumentException($"sink capacity must be at least 1 (got {SinkCapacity})", nameof(SinkCapacity));
        }

        if (Limit is < 0)
        {
            throw new ArgumentException($"limit must not be negative (got {Limit})", nameof(Limit));
        }
    }
}

/// <summary>A moment of a run, as reported to an <see cref="IProgress{T}"/>.</summary>
/// <param name="RecordsRead">Records read so far.</param>
/// <param name="RecordsWritten">Records written (or, with no sink, counted) so far.</param>
/// <param name="CompressedBytesRead">Input bytes consumed so far.</param>
/// <param name="TotalBytes">Size of the input, when known.</param>
/// <param name="Elapsed">Time since the progress object was created.</param>
public readonly record struct ProgressReport(long RecordsRead, long RecordsWritten, long CompressedBytesRead, long? TotalBytes, TimeSpan Elapsed)
{
    /// <summary>Records written per second so far.</summary>
    public double RecordsPerSecond => Elapsed.TotalSeconds > 0 ? RecordsWritten / Elapsed.TotalSeconds : 0;

    /// <summary>Share of the input read (0–1), when its size is known.</summary>
    public double? Fraction => TotalBytes is > 0 ? Math.Min(1, (double)CompressedBytesRead / TotalBytes.Value) : null;
}

/// <summary>
/// Live counters of a run, updated by the engine and safe to read from any thread (e.g. a progress bar). Give it
/// a <see cref="Reporter"/> to be told after every batch instead of polling.
/// </summary>
public sealed class ConversionProgress
{
    private readonly long _created = System.Diagnostics.Stopwatch.GetTimestamp();

    private long _recordsRead;
    private long _compressedBytesRead;
    private long _recordsWritten;
    private long _batchesWritten;

    /// <summary>Told after every batch written (on the writer's thread: keep it quick, or use <see cref="Progress{T}"/>).</summary>
    public IProgress<ProgressReport>? Reporter { get; init; }

    /// <summary>Size of the input in bytes, when known (not for a pipe).</summary>
    public long? TotalBytes { get; set; }

    /// <summary>Records read by the source.</summary>
    public long RecordsRead => Interlocked.Read(ref _recordsRead);

    /// <summary>Compressed input bytes consumed by the source.</summary>
    public long CompressedBytesRead => Interlocked.Read(ref _compressedBytesRead);

    /// <summary>Records written by the sink.</summary>
    public long RecordsWritten => Interlocked.Read(ref _recordsWritten);

    /// <summary>Batches written by the sink.</summary>
    public long BatchesWritten => Interlocked.Read(ref _batchesWritten);

    internal void OnRead(long records, long compressedBytes)
    {
        Interlocked.Exchange(ref _recordsRead, records);
        Interlocked.Exchange(ref _compressedBytesRead, compressedBytes);
    }

    internal void OnWritten(int records)
    {
        Interlocked.Add(ref _recordsWritten, records);
        Interlocked.Increment(ref _batchesWritten);
        Reporter?.Report(new ProgressReport(RecordsRead, RecordsWritten, CompressedBytesRead, TotalBytes, System.Diagnostics.Stopwatch.GetElapsedTime(_created)));
    }
}

/// <summary>What a finished run did.</summary>
/// <param name="Records">Records converted (that passed every filter).</param>
/// <param name="Batches">Record batches written.</param>
/// <param name="Elapsed">Wall time of the run, from the first record read (after the header) to the end.</param>
/// <param name="CompressedBytesRead">Input bytes consumed.</param>
/// <param name="Threads">Worker threads of the parallel stage (1 when sequential).</param>
/// <param name="Sequential">Whether <see cref="PipelineOptions.Sequential"/> was set (the run had one thread).</param>
/// <param name="MissingEofMarker">Whether the input lacked the BGZF EOF marker block (probably truncated).</param>
/// <param name="TagColumns">The tag children the schema got.</param>
public sealed record ConversionSummary(
    long Records, long Batches, TimeSpan Elapsed, long CompressedBytesRead, int Threads, bool Sequential, bool MissingEofMarker, int TagColumns)
{
    /// <summary>Records read from the input (before any filter).</summary>
    public long RecordsRead { get; init; }

    /// <summary>Invalid records skipped (only with <see cref="ValidationMode.Lenient"/>).</summary>
    public long RecordsSkipped { get; init; }

    /// <summary>
    /// Each stage's items, busy time and utilisation, from reading to writing (a block added with
    /// <see cref="BamArrowPipeline.Then"/> is not timed). "read: waiting (backpressure)" is the time the reader
    /// waited for the stages after it: where it is large, reading is not what limits the run.
    /// </summary>
    public IReadOnlyList<StageMetrics> Stages { get; init; } = [];

    /// <summary>The largest managed heap seen (sampled once per batch).</summary>
    public long PeakManagedBytes { get; init; }

    /// <summary>The process's peak resident memory at the end of the run (VmHWM on Linux; 0 where unknown).</summary>
    public long PeakProcessBytes { get; init; }

    /// <summary>
    /// The most segment buffers out at once (each holds the inflated bytes of about
    /// <see cref="Bamflow.Arrow.ConversionOptions.MaxBatchBytes"/> of BGZF blocks: one chunk, or several when
    /// <see cref="Bamflow.Arrow.ConversionOptions.BatchSize"/> cuts them), from the read to the release of their last
    /// chunk. The engine has a fixed number of them: without blocks of your own among the record stages, at most
    /// 4 for the tag scan + the conversion capacity × (record stages + 1) + the thread count + 5, whatever the input.
    /// </summary>
    public int PeakChunks { get; init; }

    /// <summary>
    /// The most batches in memory at once: converting, converted, or with the sink. Without blocks of your own
    /// between conversion and the sink, and with a sink that does not keep batches, at most the conversion capacity.
    /// </summary>
    public int PeakBatches { get; init; }

    /// <summary>Records per second.</summary>
    public double RecordsPerSecond => Elapsed.TotalSeconds > 0 ? Records / Elapsed.TotalSeconds : 0;
}
