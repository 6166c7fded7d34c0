using System.Buffers.Binary;
using System.IO.Compression;

namespace Bamflow.Bgzf;

/// <summary>
/// Writes BGZF (SAMv1 §4.1): the bytes given, deflated in blocks of at most 65,280 bytes (htslib's BGZF_BLOCK_SIZE), each
/// a gzip member with the BC extra field, then the EOF marker block on <see cref="Dispose"/>. Sequential and small: for
/// index files (CSI), not for BAM output.
/// </summary>
public sealed class BgzfWriter : IDisposable
{
    /// <summary>The most inflated bytes a block holds (htslib's BGZF_BLOCK_SIZE).</summary>
    public const int BlockDataSize = 0xff00;

    private const int HeaderLength = 18;   // gzip header with the 6-byte BC extra field
    private const int FooterLength = 8;    // CRC32, ISIZE
    private const int MaxBlockLength = 1 << 16;

    /// <summary>The empty block that ends a BGZF file (SAMv1 §4.1.2).</summary>
    public static ReadOnlySpan<byte> EofMarker =>
    [
        0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
        0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    private readonly Stream _destination;
    private readonly bool _leaveOpen;
    private readonly byte[] _pending = new byte[BlockDataSize];
    private readonly MemoryStream _deflated = new();
    private int _pendingLength;
    private bool _disposed;

    /// <summary>A writer into <paramref name="destination"/>; with <paramref name="leaveOpen"/> disposing it leaves the stream open.</summary>
    public BgzfWriter(Stream destination, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(destination);
        _destination = destination;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Appends <paramref name="data"/>; full blocks are written as they fill.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!data.IsEmpty)
        {
            int take = Math.Min(data.Length, BlockDataSize - _pendingLength);
            data[..take].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += take;
            data = data[take..];
            if (_pendingLength == BlockDataSize)
            {
                WriteBlock();
            }
        }
    }

    /// <summary>Writes the last block and the EOF marker, and closes the stream unless left open.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_pendingLength > 0)
        {
            WriteBlock();
        }

        _destination.Write(EofMarker);
        _destination.Flush();
        if (!_leaveOpen)
        {
            _destination.Dispose();
        }
    }

    private void WriteBlock()
    {
        ReadOnlySpan<byte> data = _pending.AsSpan(0, _pendingLength);
        ReadOnlySpan<byte> deflated = Deflate(data, CompressionLevel.Optimal);
        if (HeaderLength + deflated.Length + FooterLength > MaxBlockLength)
        {
            deflated = Deflate(data, CompressionLevel.NoCompression); // incompressible: stored blocks always fit
        }

        int blockLength = HeaderLength + deflated.Length + FooterLength;
        Span<byte> header = stackalloc byte[HeaderLength];
        EofMarker[..HeaderLength].CopyTo(header);   // ID1 ID2 CM FLG MTIME XFL OS XLEN, 'B' 'C' SLEN
        BinaryPrimitives.WriteUInt16LittleEndian(header[16..], (ushort)(blockLength - 1)); // BSIZE
        _destination.Write(header);
        _destination.Write(deflated);
        Span<byte> footer = stackalloc byte[FooterLength];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, System.IO.Hashing.Crc32.HashToUInt32(data));
        BinaryPrimitives.WriteUInt32LittleEndian(footer[4..], (uint)data.Length);
        _destination.Write(footer);
        _pendingLength = 0;
    }

    private ReadOnlySpan<byte> Deflate(ReadOnlySpan<byte> data, CompressionLevel level)
    {
        _deflated.SetLength(0);
        using (var deflate = new DeflateStream(_deflated, level, leaveOpen: true))
        {
            deflate.Write(data);
        }

        return _deflated.GetBuffer().AsSpan(0, (int)_deflated.Length);
    }
}
