using System.Buffers.Binary;

namespace Bamflow.Tests.Support;

/// <summary>BAM records built byte by byte for tests of long reads.</summary>
internal static class LongRecords
{
    /// <summary>A valid unmapped record (block_size first) of <paramref name="length"/> bases, all A, qualities 30.</summary>
    public static byte[] Unmapped(int length)
    {
        byte[] name = "long-read\0"u8.ToArray();
        int blockSize = 32 + name.Length + (length + 1) / 2 + length;
        byte[] r = new byte[4 + blockSize];
        Span<byte> w = r;
        BinaryPrimitives.WriteInt32LittleEndian(w, blockSize);           // block_size
        BinaryPrimitives.WriteInt32LittleEndian(w[4..], -1);             // refID = -1
        BinaryPrimitives.WriteInt32LittleEndian(w[8..], -1);             // pos = -1
        w[12] = (byte)name.Length;                                       // l_read_name
        w[13] = 0;                                                       // mapq
        BinaryPrimitives.WriteUInt16LittleEndian(w[14..], 4680);         // bin (reg2bin(-1, 0))
        BinaryPrimitives.WriteUInt16LittleEndian(w[16..], 0);            // n_cigar_op
        BinaryPrimitives.WriteUInt16LittleEndian(w[18..], 4);            // flag = unmapped
        BinaryPrimitives.WriteInt32LittleEndian(w[20..], length);        // l_seq
        BinaryPrimitives.WriteInt32LittleEndian(w[24..], -1);            // next_refID
        BinaryPrimitives.WriteInt32LittleEndian(w[28..], -1);            // next_pos
        BinaryPrimitives.WriteInt32LittleEndian(w[32..], 0);             // tlen
        name.CopyTo(w[36..]);
        int seq = 36 + name.Length;
        w.Slice(seq, (length + 1) / 2).Fill(0x11);                       // "AA" per byte
        w.Slice(seq + (length + 1) / 2, length).Fill(30);                // qual
        return r;
    }
}
