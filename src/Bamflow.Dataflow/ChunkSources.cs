using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>Where the engine gets record chunks from: the parallel front-end, or the sequential reader.</summary>
internal interface IChunkSource : IDisposable
{
    /// <summary>Records cut into chunks so far.</summary>
    long RecordsRead { get; }

    /// <summary>Compressed bytes consumed so far.</summary>
    long CompressedBytesRead { get; }

    /// <summary>Whether the input ended without the BGZF EOF marker block.</summary>
    bool MissingEofMarker { get; }

    /// <summary>The next chunk, or null at the end (a failure is in the run's <see cref="FirstFault"/>).</summary>
    ValueTask<RecordChunk?> NextAsync(CancellationToken cancellationToken);

    /// <summary>Timings of the source's own stages.</summary>
    IEnumerable<StageClock> Clocks { get; }

    /// <summary>The most chunks that were out (cut and not yet released) at once.</summary>
    int PeakChunksOut { get; }

    /// <summary>
    /// From now on, cut no further while this many chunks are out and not yet released. Planning raises it by the
    /// chunks it holds; the run sets it to unlimited when a block of the user's might hold chunks.
    /// </summary>
    void LimitChunksOut(int limit);
}

/// <summary>The sequential path: the <see cref="BamReader"/> inflates and validates on the calling thread.</summary>
internal sealed class SequentialChunkSource(BamReader reader, RecordChunker chunker) : IChunkSource
{
    public long RecordsRead => chunker.RecordsRead;

    public long CompressedBytesRead => reader.CompressedBytesRead;

    public bool MissingEofMarker => reader.MissingEofMarker;

    private readonly StageClock _clock = new("read + inflate + chunk", 1);

    public IEnumerable<StageClock> Clocks => [_clock];

    /// <summary>One: the sequential path cuts a chunk only when the previous one is done.</summary>
    public int PeakChunksOut => 1;

    /// <summary>Nothing to limit: the sequential path cuts a chunk only when the previous one is done.</summary>
    public void LimitChunksOut(int limit)
    {
    }

    public ValueTask<RecordChunk?> NextAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_clock.Time(() => chunker.Next(cancellationToken)));

    public void Dispose()
    {
    }
}
