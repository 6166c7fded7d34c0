using System.Buffers.Binary;
using System.IO.Compression;

namespace Bamflow.Tests.Support;

/// <summary>
/// Builds BGZF bytes for tests, independently of the code under test: DEFLATE from System.IO.Compression,
/// CRC32 from System.IO.Hashing, header laid out by hand from SAMv1 §4.1.
/// </summary>
public static class BgzfTestWriter
{
    /// <summary>The 28-byte EOF marker block (SAMv1 §4.1.2).</summary>
    public static byte[] EofBlock =>
    [
        0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
        0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// <summary>One BGZF block holding <paramref name="data"/> (at most 64 KiB).</summary>
    public static byte[] Block(ReadOnlySpan<byte> data)
    {
        var deflated = new MemoryStream();
        using (var deflate = new DeflateStream(deflated, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
        }

        // DeflateStream writes nothing at all for empty input; BGZF needs a final empty block (03 00).
        byte[] cdata = data.IsEmpty ? [0x03, 0x00] : deflated.ToArray();
        int total = 18 + cdata.Length + 8;
        byte[] block = new byte[total];
        // ID1 ID2 CM FLG | MTIME (4) | XFL OS | XLEN=6 | SI1='B' SI2='C' SLEN=2 BSIZE
        block[0] = 0x1f; block[1] = 0x8b; block[2] = 8; block[3] = 4;
        block[9] = 0xff;
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(10), 6);
        block[12] = (byte)'B'; block[13] = (byte)'C';
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(14), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(16), (ushort)(total - 1));
        cdata.CopyTo(block, 18);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(total - 8), System.IO.Hashing.Crc32.HashToUInt32(data));
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(total - 4), (uint)data.Length);
        return block;
    }

    /// <summary>BGZF-compresses <paramref name="data"/> in blocks of <paramref name="blockSize"/> bytes, with an EOF block unless told otherwise.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> data, int blockSize = 65280, bool eofMarker = true)
    {
        var output = new MemoryStream();
        for (int offset = 0; offset < data.Length; offset += blockSize)
        {
            output.Write(Block(data.Slice(offset, Math.Min(blockSize, data.Length - offset))));
        }

        if (eofMarker)
        {
            output.Write(EofBlock);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Inflated BAM bytes: magic, header text, references, then the given records (each the bytes after block_size;
    /// block_size is prepended here).
    /// </summary>
    public static byte[] BamBytes(string text, IReadOnlyList<(string Name, int Length)> references, params byte[][] records) =>
        BamBytes(System.Text.Encoding.UTF8.GetBytes(text), [.. references.Select(r => (System.Text.Encoding.UTF8.GetBytes(r.Name), r.Length))], records);

    /// <summary>As the other overload, with the header text and reference names as raw bytes (names without their NUL, added here).</summary>
    public static byte[] BamBytes(byte[] text, IReadOnlyList<(byte[] Name, int Length)> references, params byte[][] records)
    {
        var bam = new MemoryStream();
        var w = new BinaryWriter(bam);
        w.Write("BAM\u0001"u8);
        w.Write(text.Length);
        w.Write(text);
        w.Write(references.Count);
        foreach ((byte[] name, int length) in references)
        {
            w.Write(name.Length + 1);
            w.Write(name);
            w.Write((byte)0);
            w.Write(length);
        }

        foreach (byte[] record in records)
        {
            w.Write(record.Length);
            w.Write(record);
        }

        w.Flush();
        return bam.ToArray();
    }
}
