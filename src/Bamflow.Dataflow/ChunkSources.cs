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
}

/// <summary>The sequential path: the <see cref="BamReader"/> inflates and validates on the calling thread.</summary>
internal sealed class SequentialChunkSource(BamReader reader, RecordChunker chunker) : IChunkSource
{
    public long RecordsRead => chunker.RecordsRead;

    public long CompressedBytesRead => reader.CompressedBytesRead;

    public bool MissingEofMarker => reader.MissingEofMarker;

    private readonly StageClock _clock = new("read + inflate + chunk", 1);

    public IEnumerable<StageClock> Clocks => [_clock];

    public ValueTask<RecordChunk?> NextAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_clock.Time(() => chunker.Next(cancellationToken)));

    public void Dispose()
    {
    }
}
