namespace Bamflow.Tests.Support;

/// <summary>
/// A read-only, pipe-like (not seekable) wrapper that counts the bytes read through it: how far a run read its input.
/// </summary>
public sealed class ReadCountingStream(Stream inner) : ReadOnlyPipeStream
{
    private long _bytesRead;

    /// <summary>Bytes read so far (any thread).</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        Interlocked.Add(ref _bytesRead, n);
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
