namespace Bamflow.Tests.Support;

/// <summary>
/// A pipe-like stream over bytes: not seekable, and each <see cref="Read(Span{byte})"/> returns at most the next size
/// of a schedule — a first read of <c>firstRead</c> bytes, then pseudo-random sizes of 1 to <c>maxRead</c> bytes from a
/// seed (the same seed gives the same reads), so read boundaries fall anywhere inside a block.
/// </summary>
public sealed class TrickleStream(byte[] data, int maxRead, int seed = 1, int firstRead = 0) : ReadOnlyPipeStream
{
    private readonly Random _sizes = new(seed);
    private int _position;
    private bool _first = firstRead > 0;

    /// <summary>The number of calls to <see cref="Read(Span{byte})"/> so far.</summary>
    public int Reads { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        Reads++;
        int size = _first ? firstRead : _sizes.Next(1, maxRead + 1);
        _first = false;
        int n = Math.Min(Math.Min(size, buffer.Length), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }
}
