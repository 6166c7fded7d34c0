using System.Buffers.Binary;

/// <summary>
/// Mutants of a large file that change length fields deep inside it: a seed's records repeated until the inflated data
/// spans many segments, then one to three records past its first tenth get a hostile block_size, l_read_name,
/// n_cigar_op, l_seq or B-array count (SAMv1 §4.2), the rest of the file left intact. Random byte edits rarely hit
/// these fields in a large file; these mutants always do, where a record may straddle segments.
/// </summary>
internal sealed class LengthMutator
{
    // Offsets from a record's block_size field (SAMv1 §4.2: block_size, refID, pos, l_read_name, mapq, bin, n_cigar_op, flag, l_seq).
    private const int LReadNameOffset = 4 + 8, NCigarOpOffset = 4 + 12, LSeqOffset = 4 + 16, FixedEnd = 4 + 32;

    private readonly byte[] _data;
    private readonly int[] _starts;

    private LengthMutator(byte[] data, int[] starts)
    {
        _data = data;
        _starts = starts;
    }

    /// <summary>The inflated data mutants start from.</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>
    /// The seed among <paramref name="raw"/> (inflated BAM data) with the most records that all frame cleanly, its
    /// records repeated until there are at least <paramref name="minimumBytes"/>; null if none parses.
    /// </summary>
    public static LengthMutator? Build(IEnumerable<byte[]> raw, int minimumBytes)
    {
        (byte[] Seed, int HeaderEnd, List<int> Starts)? best = null;
        foreach (byte[] seed in raw)
        {
            if (Frame(seed) is { } framed && framed.Starts.Count > (best?.Starts.Count ?? 0))
            {
                best = (seed, framed.HeaderEnd, framed.Starts);
            }
        }

        if (best is not { } chosen)
        {
            return null;
        }

        ReadOnlySpan<byte> records = chosen.Seed.AsSpan(chosen.HeaderEnd);
        var data = new MemoryStream();
        data.Write(chosen.Seed, 0, chosen.HeaderEnd);
        var starts = new List<int>();
        while (data.Length < minimumBytes)
        {
            int copyStart = (int)data.Length;
            starts.AddRange(chosen.Starts.Select(s => copyStart + s - chosen.HeaderEnd));
            data.Write(records);
        }

        return new LengthMutator(data.ToArray(), [.. starts]);
    }

    /// <summary>A copy of the data with one to three length fields of records past its first tenth set to hostile values.</summary>
    public byte[] Mutate(Random random)
    {
        byte[] data = (byte[])_data.Clone();
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits; e++)
        {
            int start = _starts[_starts.Length / 10 + random.Next(_starts.Length - _starts.Length / 10)];
            int blockSize = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(start));
            switch (random.Next(5))
            {
                case 0:
                    BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(start), Hostile32(blockSize, random));
                    break;
                case 1:
                    data[start + LReadNameOffset] = (byte)(random.Next(8) switch { 0 => 0, 1 => 0xFF, 2 => 1, _ => data[start + LReadNameOffset] + random.Next(-2, 3) });
                    break;
                case 2:
                    BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(start + NCigarOpOffset), (ushort)(random.Next(4) switch { 0 => 0xFFFF, 1 => 0, 2 => 0x8000, _ => BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(start + NCigarOpOffset)) + random.Next(1, 4) }));
                    break;
                case 3:
                    BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(start + LSeqOffset), Hostile32(BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(start + LSeqOffset)), random));
                    break;
                default:
                    if (ArrayCountOffsets(data.AsSpan(start, 4 + Math.Max(0, blockSize))) is { Count: > 0 } counts)
                    {
                        int at = start + counts[random.Next(counts.Count)];
                        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(at), Hostile32(BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at)), random));
                    }
                    else
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(start), Hostile32(blockSize, random));
                    }

                    break;
            }
        }

        return data;
    }

    /// <summary>A hostile value for a 32-bit length whose true value is <paramref name="value"/>.</summary>
    private static int Hostile32(int value, Random random) => random.Next(12) switch
    {
        0 => 0,
        1 => -1,
        2 => int.MaxValue,
        3 => int.MinValue,
        4 => 0x40000000,
        5 => (64 << 20) + 1,       // one byte over the default record size limit
        6 => 64 << 20,             // exactly the limit
        7 => value * 2,
        8 => value + random.Next(1, 64),
        9 => value - random.Next(1, 64),
        10 => random.Next(1 << 16, 1 << 26), // more than a block, less than the limit: the read runs on across segments
        _ => random.Next(),
    };

    /// <summary>Where, from the record's block_size field, each B array's count is (an empty list if the record does not parse).</summary>
    private static List<int> ArrayCountOffsets(ReadOnlySpan<byte> record)
    {
        var offsets = new List<int>();
        if (record.Length < FixedEnd)
        {
            return offsets;
        }

        long p = FixedEnd + record[LReadNameOffset] + 4L * BinaryPrimitives.ReadUInt16LittleEndian(record[NCigarOpOffset..]);
        int seq = BinaryPrimitives.ReadInt32LittleEndian(record[LSeqOffset..]);
        p += (seq + 1L) / 2 + seq;
        while (p + 3 <= record.Length)
        {
            byte type = record[(int)p + 2];
            p += 3;
            long size = type switch
            {
                (byte)'A' or (byte)'c' or (byte)'C' => 1,
                (byte)'s' or (byte)'S' => 2,
                (byte)'i' or (byte)'I' or (byte)'f' => 4,
                (byte)'Z' or (byte)'H' => record[(int)p..].IndexOf((byte)0) + 1,
                (byte)'B' when p + 5 <= record.Length => 5 + (long)BinaryPrimitives.ReadInt32LittleEndian(record[((int)p + 1)..]) * (record[(int)p] switch { (byte)'c' or (byte)'C' => 1, (byte)'s' or (byte)'S' => 2, _ => 4 }),
                _ => -1,
            };
            if (type == (byte)'B' && size > 0)
            {
                offsets.Add((int)p + 1);
            }

            if (size <= 0)
            {
                break;
            }

            p += size;
        }

        return offsets;
    }

    /// <summary>The header's end and the record starts of inflated BAM data, or null unless every record frames cleanly to the end.</summary>
    private static (int HeaderEnd, List<int> Starts)? Frame(byte[] bam)
    {
        try
        {
            if (bam.Length < 12 || !bam.AsSpan(0, 4).SequenceEqual("BAM\u0001"u8))
            {
                return null;
            }

            long p = 8L + BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan(4));
            int references = BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan((int)p));
            p += 4;
            for (int i = 0; i < references; i++)
            {
                p += 4L + BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan((int)p)) + 4;
            }

            int headerEnd = (int)p;
            var starts = new List<int>();
            while (p + 4 <= bam.Length)
            {
                int size = BinaryPrimitives.ReadInt32LittleEndian(bam.AsSpan((int)p));
                if (size < 33 || p + 4 + size > bam.Length)
                {
                    return null;
                }

                starts.Add((int)p);
                p += 4 + size;
            }

            return p == bam.Length && starts.Count > 0 ? (headerEnd, starts) : null;
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
