using System.Buffers.Binary;
using System.IO.Compression;

namespace Bamflow.Tests.Support;

/// <summary>
/// Large BAM files for tests, made here (no ../shared): the sample fixture's header and records, the records repeated
/// until the file holds a given number of inflated bytes, with one record's block_size set to anything. Inflated with
/// System.IO.Compression and compressed with <see cref="BgzfTestWriter"/>, independently of the code under test.
/// </summary>
public sealed class LargeBam
{
    private readonly byte[] _header;
    private readonly byte[] _records;
    private readonly List<int> _starts = [];

    /// <summary>The sample's header, then its records repeated until there are at least <paramref name="minimumBytes"/> of them.</summary>
    public LargeBam(int minimumBytes)
    {
        byte[] sample = Inflate(File.ReadAllBytes(Conversion.Fixture("sample.bam")));
        int headerLength = HeaderEnd(sample);
        _header = sample[..headerLength];
        ReadOnlySpan<byte> records = sample.AsSpan(headerLength);
        var all = new MemoryStream();
        while (all.Length < minimumBytes)
        {
            all.Write(records);
        }

        _records = all.ToArray();
        for (int p = 0; p < _records.Length; p += 4 + BinaryPrimitives.ReadInt32LittleEndian(_records.AsSpan(p)))
        {
            _starts.Add(p);
        }
    }

    /// <summary>Records in the file.</summary>
    public int RecordCount => _starts.Count;

    /// <summary>Inflated bytes of the header (the offset of the first record's block_size).</summary>
    public int HeaderLength => _header.Length;

    /// <summary>The inflated offset of record <paramref name="index"/>'s block_size.</summary>
    public int RecordOffset(int index) => _header.Length + _starts[index];

    /// <summary>
    /// The inflated BAM data with record <paramref name="index"/>'s block_size set to <paramref name="blockSize"/> (none
    /// when null), followed by <paramref name="trailing"/>.
    /// </summary>
    public byte[] Inflated(int? index = null, uint blockSize = 0, ReadOnlySpan<byte> trailing = default)
    {
        byte[] data = [.. _header, .. _records, .. trailing];
        if (index is { } i)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(RecordOffset(i)), blockSize);
        }

        return data;
    }

    /// <summary>The BGZF file of <see cref="Inflated"/> (blocks of 65,280 bytes, EOF marker).</summary>
    public byte[] Compressed(int? index = null, uint blockSize = 0) => BgzfTestWriter.Compress(Inflated(index, blockSize));

    /// <summary>The inflated contents of a BGZF file (gzip members one after another).</summary>
    public static byte[] Inflate(byte[] bgzf)
    {
        using var gzip = new GZipStream(new MemoryStream(bgzf), CompressionMode.Decompress);
        var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>SAMv1 §4.2: magic, l_text, text, n_ref, then n_ref × (l_name, name, l_ref).</summary>
    private static int HeaderEnd(ReadOnlySpan<byte> bam)
    {
        int p = 8 + BinaryPrimitives.ReadInt32LittleEndian(bam[4..]);
        int references = BinaryPrimitives.ReadInt32LittleEndian(bam[p..]);
        p += 4;
        for (int i = 0; i < references; i++)
        {
            p += 4 + BinaryPrimitives.ReadInt32LittleEndian(bam[p..]) + 4;
        }

        return p;
    }
}
