using System.Buffers.Binary;

namespace Bamflow.Bam.Index;

public sealed partial class BamIndexBuilder
{
    /// <summary>
    /// What an index needs of a BAM record (<paramref name="record"/>: the bytes after block_size), read directly: refID,
    /// POS, the end (htslib's bam_endpos) and whether it is mapped. Checks what htslib's bam_read1 checks before samtools
    /// index uses a record (lengths that fit the record, a read name, CIGAR operations, a CIGAR whose query length is
    /// l_seq). Returns false when a check fails or when the CIGAR may be a placeholder for one in the CG tag (two
    /// operations, the first a soft clip of l_seq): then validate the record as a <see cref="BamRecord"/> and use its
    /// <see cref="BamRecord.EndPosition"/>, which names the error or reads the real CIGAR.
    /// </summary>
    public static bool TryReadPlacement(ReadOnlySpan<byte> record, int referenceCount, out int referenceId, out long begin, out long end, out bool mapped)
    {
        referenceId = 0;
        begin = end = 0;
        mapped = false;
        if (record.Length < BamRecord.FixedLength + 1)
        {
            return false;
        }

        referenceId = BinaryPrimitives.ReadInt32LittleEndian(record);             // refID
        begin = BinaryPrimitives.ReadInt32LittleEndian(record[4..]);              // pos
        int nameLength = record[8];                                               // l_read_name
        int cigarCount = BinaryPrimitives.ReadUInt16LittleEndian(record[12..]);   // n_cigar_op
        int flag = BinaryPrimitives.ReadUInt16LittleEndian(record[14..]);         // flag
        int sequenceLength = BinaryPrimitives.ReadInt32LittleEndian(record[16..]); // l_seq
        mapped = (flag & 0x4) == 0;                                               // BAM_FUNMAP
        int cigarOffset = BamRecord.FixedLength + nameLength;
        if (referenceId < -1 || referenceId >= referenceCount || nameLength == 0 || sequenceLength < 0
            || cigarOffset + (4L * cigarCount) + ((sequenceLength + 1L) >> 1) + sequenceLength > record.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> cigar = record.Slice(cigarOffset, 4 * cigarCount);
        if (cigarCount == 2 && (BinaryPrimitives.ReadUInt32LittleEndian(cigar) & 0xf) == 4)
        {
            return false; // maybe the CG tag's placeholder (kSmN): the slow path knows
        }

        if (!CigarDecoder.TryGetQueryLength(cigar, out long queryLength) || (cigarCount > 0 && sequenceLength > 0 && queryLength != sequenceLength))
        {
            return false;
        }

        end = begin + (!mapped ? 1 : Math.Max(1, CigarDecoder.ReferenceLength(cigar))); // BamRecord.EndPosition's rule
        return true;
    }
}
