using Apache.Arrow;
using Apache.Arrow.Ipc;
using Bamflow.Arrow;

namespace Bamflow.Dataflow;

/// <summary>The two Arrow IPC formats.</summary>
public enum ArrowIpcFormat
{
    /// <summary>The IPC file format (Feather v2, random access; <c>.arrow</c>, <c>.feather</c>).</summary>
    File,
    /// <summary>The IPC streaming format (<c>.arrows</c>; what <c>-o -</c> writes).</summary>
    Stream,
}

/// <summary>IPC body compression.</summary>
public enum IpcCompression
{
    /// <summary>Uncompressed: readable by every Arrow implementation.</summary>
    None,
    /// <summary>LZ4 frame.</summary>
    Lz4,
    /// <summary>Zstandard.</summary>
    Zstd,
}

/// <summary>Writes batches to a stream as Arrow IPC (file or stream format).</summary>
public sealed class ArrowIpcSink(Stream stream, ArrowIpcFormat format, IpcCompression compression = IpcCompression.None, bool leaveOpen = true)
    : IRecordBatchSink
{
    private ArrowStreamWriter? _writer;

    /// <inheritdoc />
    public bool ReleasesBatchMemory => true;

    /// <inheritdoc />
    public async Task StartAsync(Schema schema, CancellationToken cancellationToken)
    {
        var options = new IpcOptions();
        if (compression != IpcCompression.None)
        {
            options.CompressionCodecFactory = new Apache.Arrow.Compression.CompressionCodecFactory();
            options.CompressionCodec = compression == IpcCompression.Lz4 ? CompressionCodecType.Lz4Frame : CompressionCodecType.Zstd;
        }

        // The IPC file format needs no seek (the footer records offsets the writer counts), but Arrow's writer asks
        // for a seekable stream: a pipe, FIFO or device gets a stream that counts its position.
        _writer = format == ArrowIpcFormat.File
            ? new ArrowFileWriter(stream.CanSeek ? stream : new PositionTrackingStream(stream), schema, leaveOpen, options)
            : new ArrowStreamWriter(stream, schema, leaveOpen, options);
        await _writer.WriteStartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken) =>
        (_writer ?? throw new InvalidOperationException("StartAsync was not called")).WriteRecordBatchAsync(batch, cancellationToken);

    /// <inheritdoc />
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        await (_writer ?? throw new InvalidOperationException("StartAsync was not called")).WriteEndAsync(cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _writer?.Dispose();
        if (!leaveOpen && _writer is ArrowFileWriter && !stream.CanSeek)
        {
            await stream.DisposeAsync().ConfigureAwait(false); // the writer closed only the position-counting wrapper
        }
    }
}
