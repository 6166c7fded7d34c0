using System.Buffers.Binary;
using Bamflow.Bgzf;

namespace Bamflow.Bam.Index;

/// <summary>
/// Builds a BAI or CSI index from a coordinate-sorted BAM file's records, given in file order, exactly as htslib's
/// <c>hts_idx_push</c>/<c>hts_idx_finish</c>/<c>hts_idx_save</c> do for <c>samtools index</c> (1.16): a record goes in the
/// bin of reg2bin(POS, its end) (not the bin field it stores); consecutive records of a bin form one chunk; the linear
/// index holds each window's first record; at the end, small bins are merged into their parents and chunks that start in
/// the block where the last one ends are merged; each reference gets the metadata pseudo-bin. The bytes written are
/// samtools' (BAI byte for byte; CSI the same once inflated), bins in htslib's hash-table order. Pure: no I/O besides
/// the stream it writes to.
/// </summary>
public sealed partial class BamIndexBuilder
{
    private const ulong MinMarkerDistance = 0x10000;   // HTS_MIN_MARKER_DIST: a bin spanning fewer compressed bytes is merged up
    private const uint NoBin = 0xffffffffu;
    private readonly string? _fileName;
    private readonly BinTable?[] _bins;
    private readonly ulong[]?[] _linear;
    private readonly long[] _linearCount;
    private readonly long _maxPosition;
    private readonly int _binCount;   // n_bins: the first bin number past the scheme's
    private readonly bool _csi;

    // htslib's idx->z: the state between records.
    private uint _lastBin = NoBin, _saveBin = NoBin;
    private long _lastCoordinate = 0xffffffffL;
    private int _lastReference = -1, _saveReference = -1;
    private ulong _lastOffset, _saveOffset, _offsetBegin, _offsetEnd;
    private ulong _mapped, _unmapped;
    private bool _finished;

    /// <summary>
    /// An index of <paramref name="referenceCount"/> references (n_ref of the header) with <paramref name="scheme"/>'s
    /// binning: <see cref="BinningScheme.Bai"/> for a BAI, any other for a CSI (<see cref="CsiScheme"/>).
    /// </summary>
    /// <param name="referenceCount">References in the header.</param>
    /// <param name="scheme">The binning.</param>
    /// <param name="csi">Whether the index is a CSI (its range errors say so; a BAI must use <see cref="BinningScheme.Bai"/>).</param>
    /// <param name="fileName">The BAM file's name, for errors.</param>
    public BamIndexBuilder(int referenceCount, BinningScheme scheme, bool csi, string? fileName = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(referenceCount);
        if (!csi && scheme != BinningScheme.Bai)
        {
            throw new ArgumentException("a BAI index has min_shift 14 and depth 5", nameof(scheme));
        }

        Scheme = scheme;
        _csi = csi;
        _fileName = fileName;
        _bins = new BinTable?[referenceCount];
        _linear = new ulong[]?[referenceCount];
        _linearCount = new long[referenceCount];
        _maxPosition = scheme.MaxPosition;
        _binCount = scheme.BinLimit;
    }

    /// <summary>The binning of the index.</summary>
    public BinningScheme Scheme { get; }

    /// <summary>Records added so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>Records with no reference (refID −1) added so far: n_no_coor.</summary>
    public long UnplacedCount { get; private set; }

    /// <summary>
    /// The scheme <c>samtools index -c -m <paramref name="minShift"/></c> uses: the depth whose span covers the longest
    /// reference plus 256 (htslib's sam_index).
    /// </summary>
    public static BinningScheme CsiScheme(int minShift, IEnumerable<long> referenceLengths)
    {
        ArgumentNullException.ThrowIfNull(referenceLengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(minShift, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minShift, 30);
        long maxLength = 0;
        foreach (long length in referenceLengths)
        {
            maxLength = Math.Max(maxLength, length);
        }

        maxLength += 256;
        int depth = 0;
        for (long span = 1L << minShift; maxLength > span; depth++, span <<= 3)
        {
        }

        return new BinningScheme(minShift, depth);
    }

    /// <summary>
    /// Adds the next record in file order (htslib's hts_idx_push): its refID, its 0-based POS and end (htslib's bam_endpos,
    /// <see cref="BamRecord.EndPosition"/>), whether it is mapped (flag 0x4 clear), and the virtual positions of its start and
    /// <paramref name="next"/> of its end (the next record's start: for a record ending a BGZF block, the next block at offset 0).
    /// </summary>
    /// <exception cref="BamIndexBuildException">The record cannot be indexed (samtools' verdict and the record's place).</exception>
    public void Add(int referenceId, long begin, long end, bool mapped, VirtualPosition start, VirtualPosition next)
    {
        if (_finished)
        {
            throw new InvalidOperationException("the index is finished");
        }

        long recordIndex = RecordCount;
        _lastOffset = start.Value;   // htslib: the previous record's end, which is this one's start
        if (recordIndex == 0)
        {
            _saveOffset = _offsetBegin = _offsetEnd = start.Value;   // htslib: offset0, where the header ends
        }
        if (referenceId < 0)
        {
            begin = -1;
            end = 0;
        }
        else if (referenceId >= _bins.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(referenceId), $"refID {referenceId} is past the header's {_bins.Length} references");
        }

        if (referenceId >= 0 && (begin > _maxPosition || end > _maxPosition))
        {
            throw BamIndexBuildException.OutOfRange(_fileName, recordIndex, start, referenceId, begin, end, _csi);
        }

        if (_lastReference != referenceId)
        {
            if (referenceId >= 0 && UnplacedCount > 0)
            {
                throw BamIndexBuildException.PlacedAfterUnplaced(_fileName, recordIndex, start, referenceId, _lastReference);
            }

            if (referenceId >= 0 && _bins[referenceId] is not null)
            {
                throw BamIndexBuildException.NotContiguous(_fileName, recordIndex, start, referenceId);
            }

            _lastReference = referenceId;
            _lastBin = NoBin;
        }
        else if (referenceId >= 0 && _lastCoordinate > begin)
        {
            throw BamIndexBuildException.Unsorted(_fileName, recordIndex, start, referenceId, _lastCoordinate, begin);
        }

        if (end < begin)
        {
            throw BamIndexBuildException.Invalid(_fileName, recordIndex, start, referenceId, begin, end);
        }

        if (referenceId >= 0)
        {
            _bins[referenceId] ??= new BinTable();
            if (begin < 0)
            {
                begin = 0; // [-1, 0) into the leftmost bottom-level bin
            }

            if (end <= 0)
            {
                end = 1;
            }

            AddToLinear(referenceId, begin, end, _lastOffset);
        }
        else
        {
            UnplacedCount++;
        }

        uint bin = (uint)Scheme.RegionToBin(begin, end);
        if (_lastBin != bin)
        {
            if (_saveBin != NoBin)
            {
                _bins[_saveReference]!.GetOrAdd((int)_saveBin).Add(_saveOffset, _lastOffset);
            }

            if (_lastBin == NoBin && _saveBin != NoBin)
            {
                // A new reference: the last one's metadata.
                _offsetEnd = _lastOffset;
                AddMetadata(_saveReference, _offsetEnd);
                _mapped = _unmapped = 0;
                _offsetBegin = _offsetEnd;
            }

            _saveOffset = _lastOffset;
            _saveBin = _lastBin = bin;
            _saveReference = referenceId;
        }

        if (mapped)
        {
            _mapped++;
        }
        else
        {
            _unmapped++;
        }

        _lastOffset = next.Value;
        _lastCoordinate = begin;
        RecordCount++;
    }

    /// <summary>
    /// Ends the index (htslib's hts_idx_finish) at <paramref name="finalOffset"/>, where reading stopped: after the last
    /// record, the EOF marker block's offset (at 0). Then it can be written.
    /// </summary>
    public void Finish(VirtualPosition finalOffset)
    {
        if (_finished)
        {
            return;
        }

        ulong final = finalOffset.Value;
        if (_saveReference >= 0)
        {
            _bins[_saveReference]!.GetOrAdd((int)_saveBin).Add(_saveOffset, final);
            AddMetadata(_saveReference, final);
        }

        for (int i = 0; i < _bins.Length; i++)
        {
            UpdateLinearOffsets(i);
            CompressBinning(i);
        }

        _finished = true;
    }

    /// <summary>Writes the BAI (SAMv1 §5.2) of a finished BAI builder.</summary>
    public void WriteBai(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_csi)
        {
            throw new InvalidOperationException("this builder makes a CSI index");
        }

        destination.Write(Serialize("BAI\u0001"u8));
    }

    /// <summary>Writes the CSI (CSIv1) of a finished CSI builder, BGZF-compressed as samtools writes it.</summary>
    public void WriteCsi(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!_csi)
        {
            throw new InvalidOperationException("this builder makes a BAI index");
        }

        using var writer = new BgzfWriter(destination, leaveOpen: true);
        writer.Write(Serialize("CSI\u0001"u8));
    }

    private void AddMetadata(int referenceId, ulong offsetEnd)
    {
        // Two insert_to_b calls, so two kh_put: the second may grow the table (it checks the load before the key), and
        // the bins' order in the file is the table's.
        BinTable table = _bins[referenceId]!;
        table.GetOrAdd(Scheme.MetadataBin).Add(_offsetBegin, offsetEnd);
        table.GetOrAdd(Scheme.MetadataBin).Add(_mapped, _unmapped);
    }

    /// <summary>insert_to_l: the windows the record covers that have no record yet get its start.</summary>
    private void AddToLinear(int referenceId, long begin, long end, ulong offset)
    {
        int shift = Scheme.MinShift;
        long first = begin >> shift, last = (end - 1) >> shift;
        ulong[] windows = _linear[referenceId] ?? [];
        if (windows.Length < last + 1)
        {
            long size = Math.Max(windows.Length * 2L, last + 1);
            var grown = new ulong[size];
            windows.CopyTo(grown, 0);
            grown.AsSpan(windows.Length).Fill(ulong.MaxValue);
            _linear[referenceId] = windows = grown;
        }

        for (long i = first; i <= last; i++)
        {
            if (windows[i] == ulong.MaxValue)
            {
                windows[i] = offset;
            }
        }

        _linearCount[referenceId] = Math.Max(_linearCount[referenceId], last + 1);
    }

    /// <summary>update_loff: empty windows take the next window's offset; each bin's loffset is its first window's.</summary>
    private void UpdateLinearOffsets(int referenceId)
    {
        ulong[] windows = _linear[referenceId] ?? [];
        long count = _linearCount[referenceId];
        for (long l = count - 2; l >= 0; l--)
        {
            if (windows[l] == ulong.MaxValue)
            {
                windows[l] = windows[l + 1];
            }
        }

        if (_bins[referenceId] is not { } table)
        {
            return;
        }

        for (int slot = 0; slot < table.Buckets; slot++)
        {
            if (!table.IsLive(slot))
            {
                continue;
            }

            int key = table.KeyAt(slot);
            Bin bin = table.ValueAt(slot);
            if (key < _binCount)
            {
                long bottom = BottomWindow(key);
                bin.LinearOffset = bottom < count ? windows[bottom] : 0;
            }
            else
            {
                bin.LinearOffset = 0;
            }
        }
    }

    /// <summary>hts_bin_bot: the first smallest-level bin (linear window) under <paramref name="bin"/>.</summary>
    private long BottomWindow(int bin)
    {
        int level = 0;
        for (int b = bin; b != 0; b = (b - 1) >> 3)
        {
            level++;
        }

        long first = ((1L << (3 * level)) - 1) / 7;
        return (bin - first) << ((Scheme.Depth - level) * 3);
    }

    /// <summary>compress_binning: bins spanning less than 64 KiB of compressed file go into their parent; then chunks are merged.</summary>
    private void CompressBinning(int referenceId)
    {
        if (_bins[referenceId] is not { } table)
        {
            return;
        }

        for (int level = Scheme.Depth; level > 0; level--)
        {
            int start = (int)(((1L << (3 * level)) - 1) / 7);
            for (int slot = 0; slot < table.Buckets; slot++)
            {
                if (!table.IsLive(slot) || table.KeyAt(slot) >= _binCount || table.KeyAt(slot) < start)
                {
                    continue;
                }

                Bin p = table.ValueAt(slot);
                if (level < Scheme.Depth && p.Count > 1)
                {
                    p.Sort();
                }

                if ((p.End(p.Count - 1) >> 16) - (p.Begin(0) >> 16) < MinMarkerDistance)
                {
                    int parent = table.Find((table.KeyAt(slot) - 1) >> 3);
                    if (parent < 0)
                    {
                        continue;
                    }

                    Bin q = table.ValueAt(parent);
                    for (int i = 0; i < p.Count; i++)
                    {
                        q.Add(p.Begin(i), p.End(i));
                    }

                    table.Delete(slot);
                }
            }
        }

        int root = table.Find(0);
        if (root >= 0)
        {
            table.ValueAt(root).Sort();
        }

        // Merge adjacent chunks that start in the BGZF block where the one before ends.
        for (int slot = 0; slot < table.Buckets; slot++)
        {
            if (!table.IsLive(slot) || table.KeyAt(slot) >= _binCount)
            {
                continue;
            }

            Bin p = table.ValueAt(slot);
            int m = 0;
            for (int l = 1; l < p.Count; l++)
            {
                if (p.End(m) >> 16 >= p.Begin(l) >> 16)
                {
                    if (p.End(m) < p.End(l))
                    {
                        p.Chunks[(2 * m) + 1] = p.End(l);
                    }
                }
                else
                {
                    m++;
                    p.Chunks[2 * m] = p.Begin(l);
                    p.Chunks[(2 * m) + 1] = p.End(l);
                }
            }

            p.Count = Math.Min(p.Count, m + 1);
        }
    }

    /// <summary>The index's bytes (idx_save_core after the magic and, for CSI, its header), uncompressed.</summary>
    private byte[] Serialize(ReadOnlySpan<byte> magic)
    {
        if (!_finished)
        {
            throw new InvalidOperationException("Finish the index before writing it");
        }

        var output = new MemoryStream();
        byte[] scratch = new byte[8];
        void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(scratch, value);
            output.Write(scratch, 0, 4);
        }

        void UInt64(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch, value);
            output.Write(scratch, 0, 8);
        }

        output.Write(magic);
        if (_csi)
        {
            Int32(Scheme.MinShift);
            Int32(Scheme.Depth);
            Int32(0);   // l_aux: samtools writes no auxiliary data for BAM
        }

        Int32(_bins.Length);
        for (int i = 0; i < _bins.Length; i++)
        {
            BinTable? table = _bins[i];
            Int32(table?.Count ?? 0);
            if (table is not null)
            {
                for (int slot = 0; slot < table.Buckets; slot++)
                {
                    if (!table.IsLive(slot))
                    {
                        continue;
                    }

                    Bin bin = table.ValueAt(slot);
                    Int32(table.KeyAt(slot));
                    if (_csi)
                    {
                        UInt64(bin.LinearOffset);
                    }

                    Int32(bin.Count);
                    for (int c = 0; c < bin.Count; c++)
                    {
                        UInt64(bin.Begin(c));
                        UInt64(bin.End(c));
                    }
                }
            }

            if (!_csi)
            {
                long count = _linearCount[i];
                Int32((int)count);
                for (long w = 0; w < count; w++)
                {
                    UInt64(_linear[i]![w]);
                }
            }
        }

        UInt64((ulong)UnplacedCount);
        return output.ToArray();
    }
}
