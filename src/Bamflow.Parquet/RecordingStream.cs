using System.Runtime.ExceptionServices;

namespace Bamflow.Parquet;

/// <summary>
/// A write-only pass-through that remembers the first exception its stream threw. Arrow C++ reports a failed write
/// (a full disk, a closed pipe) as a ParquetException carrying only the text; the sink rethrows the original
/// instead, so callers see the <see cref="IOException"/> that the Arrow IPC path would give them.
/// </summary>
internal sealed class RecordingStream(Stream inner) : Stream
{
    private ExceptionDispatchInfo? _failure;

    /// <summary>Rethrows the stream's first failure, if there was one.</summary>
    public void ThrowIfFailed() => _failure?.Throw();

    public override bool CanRead => false;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => inner.Position = value; }

    public override void Flush() => Record(inner.Flush);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (Exception e)
        {
            _failure ??= ExceptionDispatchInfo.Capture(e);
            throw;
        }
    }

    private void Record(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            _failure ??= ExceptionDispatchInfo.Capture(e);
            throw;
        }
    }
}
