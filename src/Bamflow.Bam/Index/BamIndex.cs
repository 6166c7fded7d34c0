using System.Buffers.Binary;
using System.IO.Compression;
using Bamflow.Bgzf;

namespace Bamflow.Bam.Index;

/// <summary>
/// A BAI (SAMv1 §5.2) or CSI (CSIv1) index of a coordinate-sorted BAM file, read whole into memory, answering region
/// queries with the chunks htslib's <c>hts_itr_query</c> would read.
/// </summary>
public sealed partial class BamIndex
{
    private static ReadOnlySpan<byte> BaiMagic => "BAI\u0001"u8;
    private static ReadOnlySpan<byte> CsiMagic => "CSI\u0001"u8;
    private const string IndexDelimiter = "##idx##"; // htslib HTS_IDX_DELIM

    private readonly Dictionary<int, Bin>[] _references;

    private BamIndex(BinningScheme scheme, Dictionary<int, Bin>[] references, ulong? unplacedCount, bool isCsi, string? fileName)
    {
        Scheme = scheme;
        _references = references;
        UnplacedCount = unplacedCount;
        IsCsi = isCsi;
        FileName = fileName;
    }

    /// <summary>The binning of the index: BAI's (14, 5) or the CSI file's min_shift and depth.</summary>
    public BinningScheme Scheme { get; }

    /// <summary>n_ref: the number of references the index describes.</summary>
    public int ReferenceCount => _references.Length;

    /// <summary>n_no_coor: reads with no reference, when the index records it.</summary>
    public ulong? UnplacedCount { get; }

    /// <summary>Whether the index is a CSI (else BAI).</summary>
    public bool IsCsi { get; }

    /// <summary>The index's file name, for messages.</summary>
    public string? FileName { get; }

    /// <summary>Reads a BAI or CSI file (by magic), plain or gzip/BGZF-compressed, as htslib accepts them.</summary>
    /// <exception cref="BamIndexException">Missing, truncated or corrupt.</exception>
    public static BamIndex Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw BamIndexException.Missing(null, path);
        }

        using (stream)
        {
            return Read(stream, path);
        }
    }

    /// <summary>Reads a BAI or CSI index from <paramref name="stream"/> (to its end).</summary>
    /// <param name="stream">The index bytes, plain or gzip/BGZF-compressed.</param>
    /// <param name="name">The index's name, for messages.</param>
    /// <exception cref="BamIndexException">Truncated or corrupt.</exception>
    public static BamIndex Read(Stream stream, string? name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] data = ReadAll(stream, name);
        return Parse(data, name);
    }

    /// <summary>
    /// The index samtools 1.16 would use for <paramref name="bamPath"/>: the PATH of <c>IN.bam##idx##PATH</c>, else the
    /// first that exists of IN.bam.csi, IN.csi, IN.bam.bai, IN.bai (IN.csi and IN.bai replace a .bam extension).
    /// This is the order samtools 1.16 / htslib 1.16 was observed to use; null when there is none.
    /// </summary>
    public static string? Locate(string bamPath)
    {
        ArgumentNullException.ThrowIfNull(bamPath);
        int delimiter = bamPath.IndexOf(IndexDelimiter, StringComparison.Ordinal);
        if (delimiter >= 0)
        {
            return bamPath[(delimiter + IndexDelimiter.Length)..];
        }

        string stem = Path.ChangeExtension(bamPath, null);
        bool hasExtension = !string.Equals(stem, bamPath, StringComparison.Ordinal);
        foreach (string? candidate in new string?[] { bamPath + ".csi", hasExtension ? stem + ".csi" : null, bamPath + ".bai", hasExtension ? stem + ".bai" : null })
        {
            if (candidate is not null && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The BAM path without any <c>##idx##PATH</c> suffix.</summary>
    public static string DataPath(string bamPath)
    {
        ArgumentNullException.ThrowIfNull(bamPath);
        int delimiter = bamPath.IndexOf(IndexDelimiter, StringComparison.Ordinal);
        return delimiter >= 0 ? bamPath[..delimiter] : bamPath;
    }

    /// <summary>
    /// Opens the index of <paramref name="bamPath"/>: <paramref name="indexPath"/> (samtools' -X) or the one
    /// <see cref="Locate"/> finds. Never returns an index that may be wrong: refuses one older than the BAM and one
    /// whose chunks point past the BAM's end.
    /// </summary>
    /// <exception cref="BamIndexException">Missing, Stale, Truncated or Corrupt.</exception>
    public static BamIndex Open(string bamPath, string? indexPath)
    {
        ArgumentNullException.ThrowIfNull(bamPath);
        string dataPath = DataPath(bamPath);
        string? path = indexPath ?? Locate(bamPath);
        if (path is null)
        {
            throw BamIndexException.Missing(dataPath);
        }

        if (!File.Exists(path))
        {
            throw BamIndexException.Missing(dataPath, path);
        }

        var bam = new FileInfo(dataPath);
        if (bam.Exists && File.GetLastWriteTimeUtc(path) < bam.LastWriteTimeUtc)
        {
            throw BamIndexException.Stale(path, dataPath);
        }

        BamIndex index = Read(path);
        if (bam.Exists)
        {
            index.CheckOffsets(bam.Length);
        }

        return index;
    }

    /// <summary>The metadata pseudo-bin's counts of <paramref name="referenceId"/> (what samtools idxstats prints), if present.</summary>
    public (ulong Mapped, ulong Unmapped)? Counts(int referenceId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(referenceId);
        if (referenceId >= _references.Length || !_references[referenceId].TryGetValue(Scheme.MetadataBin, out Bin? meta) || meta.Chunks.Length < 4)
        {
            return null;
        }

        return (meta.Chunks[2], meta.Chunks[3]);
    }

    /// <summary>
    /// Every virtual offset the index knows a record to start at, in increasing order: its chunks' begins and ends (an
    /// end is where the next record starts), the bins' linear offsets, and the metadata bins' first and last offsets.
    /// What a shard plan cuts a file at; records without a reference (at the end of the file) have none.
    /// </summary>
    public IReadOnlyList<VirtualPosition> RecordStarts()
    {
        var starts = new SortedSet<ulong>();
        int metadataBin = Scheme.MetadataBin;
        foreach (Dictionary<int, Bin> bins in _references)
        {
            foreach ((int number, Bin bin) in bins)
            {
                // The metadata bin's second pair holds counts, not offsets.
                int pairs = number == metadataBin ? Math.Min(1, bin.Chunks.Length / 2) : bin.Chunks.Length / 2;
                for (int i = 0; i < 2 * pairs; i++)
                {
                    starts.Add(bin.Chunks[i]);
                }

                if (bin.MinimumOffset != 0)
                {
                    starts.Add(bin.MinimumOffset);
                }
            }
        }

        return [.. starts.Select(value => new VirtualPosition(value))];
    }

    private void CheckOffsets(long bamLength)
    {
        ulong limit = ((ulong)bamLength << 16) | 0xFFFF;
        int metadataBin = Scheme.MetadataBin;
        foreach (Dictionary<int, Bin> bins in _references)
        {
            foreach ((int number, Bin bin) in bins)
            {
                // The metadata bin's second pair holds counts, not offsets.
                int pairs = number == metadataBin ? Math.Min(1, bin.Chunks.Length / 2) : bin.Chunks.Length / 2;
                for (int i = 0; i < pairs; i++)
                {
                    if (bin.Chunks[2 * i] > limit || bin.Chunks[(2 * i) + 1] > limit)
                    {
                        throw BamIndexException.Corrupt(FileName, 0, $"bin {number} has a chunk at virtual offset {new VirtualPosition(bin.Chunks[(2 * i) + 1])}, past the end of the BAM file ({bamLength} bytes): the index belongs to another file");
                    }
                }
            }
        }
    }

    private static byte[] ReadAll(Stream stream, string? name)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] raw = buffer.ToArray();
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
        {
            return raw;
        }

        // gzip or BGZF (a series of gzip members): what htslib's bgzf_open reads.
        using var inflated = new MemoryStream();
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            gzip.CopyTo(inflated);
        }
        catch (InvalidDataException e)
        {
            throw BamIndexException.Corrupt(name, inflated.Length, "the gzip/BGZF compression is damaged or truncated", e);
        }
        catch (EndOfStreamException)
        {
            throw BamIndexException.Truncated(name, inflated.Length, "its gzip/BGZF compression");
        }

        return inflated.ToArray();
    }

    private static BamIndex Parse(byte[] data, string? name)
    {
        var reader = new IndexReader(data, name);
        ReadOnlySpan<byte> magic = reader.Bytes(4, "the magic");
        bool isCsi;
        BinningScheme scheme;
        if (magic.SequenceEqual(BaiMagic))
        {
            isCsi = false;
            scheme = BinningScheme.Bai;
        }
        else if (magic.SequenceEqual(CsiMagic))
        {
            isCsi = true;
            long at = reader.Offset;
            int minShift = reader.Int32("min_shift");
            int depth = reader.Int32("depth");
            if (minShift < 0 || depth < 0 || minShift + (3 * depth) > 62 || depth > 10)
            {
                throw BamIndexException.Corrupt(name, at, $"min_shift {minShift} with depth {depth} is not a usable CSI binning");
            }

            scheme = new BinningScheme(minShift, depth);
            int auxLength = reader.Int32("l_aux");
            if (auxLength < 0)
            {
                throw BamIndexException.Corrupt(name, reader.Offset - 4, $"l_aux {auxLength} is negative");
            }

            reader.Bytes(auxLength, "the aux data");
        }
        else
        {
            throw BamIndexException.Corrupt(name, 0, $"not a BAI or CSI index (magic {Convert.ToHexString(magic)}, expected BAI\\1 or CSI\\1)");
        }

        long countAt = reader.Offset;
        int referenceCount = reader.Int32("n_ref");
        if (referenceCount < 0)
        {
            throw BamIndexException.Corrupt(name, countAt, $"n_ref {referenceCount} is negative");
        }

        // Each reference takes at least 4 (CSI) or 8 (BAI) bytes: a larger count cannot be honest.
        reader.Require((long)referenceCount * (isCsi ? 4 : 8), "the reference list");
        var references = new Dictionary<int, Bin>[referenceCount];
        for (int r = 0; r < referenceCount; r++)
        {
            references[r] = ReadReference(ref reader, r, isCsi, scheme, name);
        }

        ulong? unplaced = reader.Remaining >= 8 ? reader.UInt64("n_no_coor") : null;
        return new BamIndex(scheme, references, unplaced, isCsi, name);
    }

    private static Dictionary<int, Bin> ReadReference(ref IndexReader reader, int referenceId, bool isCsi, BinningScheme scheme, string? name)
    {
        long at = reader.Offset;
        int binCount = reader.Int32("n_bin");
        if (binCount < 0)
        {
            throw BamIndexException.Corrupt(name, at, $"reference {referenceId}: n_bin {binCount} is negative");
        }

        reader.Require((long)binCount * (isCsi ? 16 : 8), $"reference {referenceId}'s bins");
        var bins = new Dictionary<int, Bin>(binCount);
        for (int b = 0; b < binCount; b++)
        {
            long binAt = reader.Offset;
            uint number = reader.UInt32("bin");
            ulong loff = isCsi ? reader.UInt64("loffset") : 0;
            long chunksAt = reader.Offset;
            int chunkCount = reader.Int32("n_chunk");
            if (chunkCount < 0)
            {
                throw BamIndexException.Corrupt(name, chunksAt, $"reference {referenceId}, bin {number}: n_chunk {chunkCount} is negative");
            }

            reader.Require((long)chunkCount * 16, $"reference {referenceId}, bin {number}'s chunks");
            ulong[] chunks = new ulong[2 * chunkCount];
            for (int c = 0; c < chunks.Length; c++)
            {
                chunks[c] = reader.UInt64("chunk");
            }

            if (number > int.MaxValue || !bins.TryAdd((int)number, new Bin(chunks, loff)))
            {
                throw BamIndexException.Corrupt(name, binAt, $"reference {referenceId}: bin {number} appears twice or is out of range");
            }
        }

        if (!isCsi)
        {
            long linearAt = reader.Offset;
            int intervalCount = reader.Int32("n_intv");
            if (intervalCount < 0)
            {
                throw BamIndexException.Corrupt(name, linearAt, $"reference {referenceId}: n_intv {intervalCount} is negative");
            }

            reader.Require((long)intervalCount * 8, $"reference {referenceId}'s linear index");
            ulong[] linear = new ulong[intervalCount];
            for (int i = 0; i < intervalCount; i++)
            {
                linear[i] = reader.UInt64("ioffset");
            }

            SetLinearOffsets(bins, linear, scheme);
        }

        return bins;
    }

    /// <summary>htslib's idx_read_core and update_loff for BAI: each bin's minimum offset from the linear index.</summary>
    private static void SetLinearOffsets(Dictionary<int, Bin> bins, ulong[] linear, BinningScheme scheme)
    {
        for (int j = 1; j < linear.Length; j++)
        {
            if (linear[j] == 0)
            {
                linear[j] = linear[j - 1]; // fill missing values (older samtools and tabix)
            }
        }

        ulong offset0 = bins.TryGetValue(scheme.MetadataBin, out Bin? meta) && meta.Chunks.Length >= 2 ? meta.Chunks[0] : 0;
        int l = 0;
        for (; l < linear.Length && linear[l] == ulong.MaxValue; l++)
        {
            linear[l] = offset0;
        }

        for (; l < linear.Length; l++)
        {
            if (linear[l] == ulong.MaxValue)
            {
                linear[l] = linear[l - 1];
            }
        }

        foreach ((int number, Bin bin) in bins)
        {
            if (number < scheme.BinLimit)
            {
                long bottom = scheme.BinStart(number) >> scheme.MinShift; // hts_bin_bot
                bin.MinimumOffset = bottom < linear.Length ? linear[bottom] : 0;
            }
        }
    }

    /// <summary>One bin: its chunks as (begin, end) virtual offsets, flattened, and its minimum offset (loff).</summary>
    private sealed class Bin(ulong[] chunks, ulong minimumOffset)
    {
        public ulong[] Chunks { get; } = chunks;

        public ulong MinimumOffset { get; set; } = minimumOffset;
    }

    /// <summary>Little-endian fields from the index bytes, each read checked against the end.</summary>
    private ref struct IndexReader(byte[] data, string? name)
    {
        private readonly byte[] _data = data;
        private readonly string? _name = name;

        public long Offset { get; private set; }

        public readonly long Remaining => _data.Length - Offset;

        public readonly void Require(long bytes, string what)
        {
            if (bytes > Remaining)
            {
                throw BamIndexException.Truncated(_name, _data.Length, what);
            }
        }

        public ReadOnlySpan<byte> Bytes(int count, string what)
        {
            Require(count, what);
            ReadOnlySpan<byte> span = _data.AsSpan((int)Offset, count);
            Offset += count;
            return span;
        }

        public int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, what));

        public uint UInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));

        public ulong UInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, what));
    }
}
