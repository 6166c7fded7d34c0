using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Bamflow.Parquet;

/// <summary>
/// Writes standard Zstandard frames (RFC 8878) whose blocks hold only Huffman-coded literals and no sequences:
/// an order-0 entropy coder in zstd's container. Any zstd decoder reads them. For data whose bytes are close to
/// independent draws from a small alphabet, as base qualities are (binned Illumina qualities: 4–9 distinct values),
/// this is both smaller and several times faster than zstd's own compressor, which spends its time looking for
/// matches that barely pay there (the benchmark BAM's <c>qual</c>: zstd level 1 gives 3.38× at ≈ 0.4 GB/s, this
/// 4.10× at ≈ 1.6 GB/s; perf/Bamflow.Benchmarks, QualityCompression).
/// </summary>
/// <remarks>
/// Each block of at most 128 KiB is written as: a Huffman-compressed block when its bytes are all below 128 (the
/// weights then fit zstd's direct representation) and that is smaller; an RLE block when it is one byte repeated;
/// otherwise a raw block. One instance is used by one thread at a time; it allocates nothing per call.
/// https://www.rfc-editor.org/rfc/rfc8878 (§3.1.1.2 blocks, §3.1.1.3.1 literals, §4.2 Huffman coding).
/// </remarks>
internal sealed class ZstdHuffmanEncoder
{
    /// <summary>RFC 8878 §3.1.1.2.3: Block_Maximum_Size is at most 128 KiB.</summary>
    public const int BlockSize = 128 * 1024;

    private const uint Magic = 0xFD2FB528;              // §3.1.1: Magic_Number
    private const byte SingleSegmentFourByteSize = 0xA0; // §3.1.1.1.1: Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag
    private const int FrameHeaderLength = 4 + 1 + 4;
    private const int BlockHeaderLength = 3;
    private const int RawBlock = 0, RleBlock = 1, CompressedBlock = 2;
    private const int CompressedLiterals = 2, FourStreams18BitSizes = 3; // §3.1.1.3.1.1: Literals_Block_Type, Size_Format
    private const int LiteralsHeaderLength = 5;
    private const int JumpTableLength = 6;
    private const int MaxCodeLength = 11;                // zstd's default Huffman table log (decoders accept up to 12)
    private const int MaxDirectSymbols = 128;            // §4.2.1.1: direct representation describes at most 128 weights
    private const int MinHuffmanBlock = 256;             // below this a raw block is as good
    private const int StreamSlack = 16;                  // a stream's last flush writes 8 bytes past its end

    private readonly uint[] _counts = new uint[4 * 256];
    private readonly int[] _symbols = new int[MaxDirectSymbols];
    private readonly uint[] _frequencies = new uint[2 * MaxDirectSymbols];
    private readonly int[] _parents = new int[2 * MaxDirectSymbols];
    private readonly int[] _lengths = new int[MaxDirectSymbols];
    private readonly uint[] _codes = new uint[256]; // code | (length << 16)

    /// <summary>The most bytes <see cref="Compress"/> can write for <paramref name="length"/> bytes of content.</summary>
    public static int MaxCompressedLength(int length) =>
        FrameHeaderLength + length + (((length + BlockSize - 1) / BlockSize) + 2) * BlockHeaderLength + StreamSlack;

    /// <summary>
    /// Writes one frame whose content is <paramref name="prefix"/> followed by <paramref name="content"/> (blocks of
    /// each are coded separately: a short header of other bytes does not spoil the content's table). Returns the
    /// frame's length in <paramref name="destination"/> (at least <see cref="MaxCompressedLength"/> of the total).
    /// </summary>
    public int Compress(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> content, Span<byte> destination)
    {
        long total = (long)prefix.Length + content.Length;
        if (total > uint.MaxValue)
        {
            throw new ArgumentException("a frame holds at most 4 GiB here", nameof(content));
        }

        if (destination.Length < MaxCompressedLength((int)Math.Min(total, int.MaxValue - BlockSize)))
        {
            throw new ArgumentException("destination too small", nameof(destination));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = SingleSegmentFourByteSize;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[5..], (uint)total);
        int at = FrameHeaderLength;
        if (total == 0)
        {
            WriteBlockHeader(destination[at..], last: true, RawBlock, 0);
            return at + BlockHeaderLength;
        }

        at += WriteBlocks(prefix, destination[at..], last: content.IsEmpty);
        at += WriteBlocks(content, destination[at..], last: true);
        return at;
    }

    private int WriteBlocks(ReadOnlySpan<byte> source, Span<byte> destination, bool last)
    {
        int at = 0;
        while (!source.IsEmpty)
        {
            int length = Math.Min(source.Length, BlockSize);
            at += WriteBlock(source[..length], destination[at..], last && length == source.Length);
            source = source[length..];
        }

        return at;
    }

    private int WriteBlock(ReadOnlySpan<byte> block, Span<byte> destination, bool last)
    {
        int distinct = CountFewSymbols(block, out int maxSymbol);
        if (distinct < 0)
        {
            distinct = Count(block, out maxSymbol);
        }

        if (distinct == 1)
        {
            WriteBlockHeader(destination, last, RleBlock, block.Length);
            destination[BlockHeaderLength] = block[0];
            return BlockHeaderLength + 1;
        }

        if (block.Length >= MinHuffmanBlock && maxSymbol < MaxDirectSymbols)
        {
            int maxLength = BuildCode(maxSymbol, out long bits);
            int streamsBound = (int)(bits / 8) + 4 * 2;
            int literalsBound = LiteralsHeaderLength + 1 + (maxSymbol + 1) / 2 + JumpTableLength + streamsBound + 1; // + sequences
            if (literalsBound + StreamSlack < block.Length)
            {
                int size = WriteCompressedBlock(block, maxSymbol, maxLength, destination[BlockHeaderLength..]);
                WriteBlockHeader(destination, last, CompressedBlock, size);
                return BlockHeaderLength + size;
            }
        }

        WriteBlockHeader(destination, last, RawBlock, block.Length);
        block.CopyTo(destination[BlockHeaderLength..]);
        return BlockHeaderLength + block.Length;
    }

    /// <summary>
    /// Counts the bytes of a block drawn from a few symbols (base qualities: 4–40 of them) with vectors: the symbols
    /// of the first 1 KiB, then for each of them a byte counter per lane over the rest (compare and subtract, summed
    /// every 255 vectors; only where 32-byte vectors are hardware-accelerated: in a Native AOT build that
    /// needs x86-64-v3, which the CLI's publish asks for). Returns the distinct count, or -1 when there are more than 16 symbols or a symbol the first
    /// 1 KiB did not have (the scalar <see cref="Count"/> then counts the block).
    /// </summary>
    private int CountFewSymbols(ReadOnlySpan<byte> block, out int maxSymbol)
    {
        const int Head = 1024, MaxSymbols = 16;
        maxSymbol = 0;
        if (!Vector256.IsHardwareAccelerated || block.Length < 4 * Head)
        {
            return -1;
        }

        int distinct = Count(block[..Head], out _);
        if (distinct > MaxSymbols)
        {
            return -1;
        }

        Span<byte> symbols = stackalloc byte[MaxSymbols];
        int k = 0;
        for (int s = 0; s < 256; s++)
        {
            if (_counts[s] != 0)
            {
                symbols[k++] = (byte)s;
            }
        }

        ReadOnlySpan<byte> rest = block[Head..];
        int vectors = rest.Length / Vector256<byte>.Count;
        ref byte start = ref MemoryMarshal.GetReference(rest);
        for (int j = 0; j < k; j++)
        {
            Vector256<byte> symbol = Vector256.Create(symbols[j]);
            ulong total = 0;
            for (int v = 0; v < vectors;)
            {
                // Lanes count to at most 255 before they are summed.
                int end = Math.Min(vectors, v + 255);
                Vector256<byte> lanes = Vector256<byte>.Zero;
                for (; v < end; v++)
                {
                    Vector256<byte> bytes = Vector256.LoadUnsafe(ref start, (nuint)(v * Vector256<byte>.Count));
                    lanes -= Vector256.Equals(bytes, symbol);
                }

                total += SumBytes(lanes);
            }

            _counts[symbols[j]] += (uint)total;
        }

        for (int i = vectors * Vector256<byte>.Count; i < rest.Length; i++)
        {
            _counts[rest[i]]++;
        }

        long counted = 0;
        for (int s = 0; s < 256; s++)
        {
            counted += _counts[s];
        }

        if (counted != block.Length)
        {
            return -1; // a symbol the head did not have
        }

        return CountDistinct(out maxSymbol);
    }

    private static ulong SumBytes(Vector256<byte> lanes)
    {
        Vector256<ushort> lo = Vector256.WidenLower(lanes), hi = Vector256.WidenUpper(lanes);
        return Vector256.Sum(Vector256.WidenLower(lo + hi)) + Vector256.Sum(Vector256.WidenUpper(lo + hi));
    }

    private int CountDistinct(out int maxSymbol)
    {
        int distinct = 0;
        maxSymbol = 0;
        for (int s = 0; s < 256; s++)
        {
            if (_counts[s] != 0)
            {
                distinct++;
                maxSymbol = s;
            }
        }

        return distinct;
    }

    /// <summary>Counts the bytes of the block (four tables, so repeated bytes do not wait on each other); returns the distinct ones.</summary>
    private int Count(ReadOnlySpan<byte> block, out int maxSymbol)
    {
        System.Array.Clear(_counts);
        ref uint counts = ref MemoryMarshal.GetArrayDataReference(_counts);
        ref byte b = ref MemoryMarshal.GetReference(block);
        int n = block.Length, i = 0;
        for (; i + 8 <= n; i += 8)
        {
            ulong v = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, i));
            Unsafe.Add(ref counts, (int)(v & 0xFF))++;
            Unsafe.Add(ref counts, 256 + (int)((v >> 8) & 0xFF))++;
            Unsafe.Add(ref counts, 512 + (int)((v >> 16) & 0xFF))++;
            Unsafe.Add(ref counts, 768 + (int)((v >> 24) & 0xFF))++;
            Unsafe.Add(ref counts, (int)((v >> 32) & 0xFF))++;
            Unsafe.Add(ref counts, 256 + (int)((v >> 40) & 0xFF))++;
            Unsafe.Add(ref counts, 512 + (int)((v >> 48) & 0xFF))++;
            Unsafe.Add(ref counts, 768 + (int)(v >> 56))++;
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref counts, Unsafe.Add(ref b, i))++;
        }

        for (int s = 0; s < 256; s++)
        {
            Unsafe.Add(ref counts, s) += Unsafe.Add(ref counts, 256 + s) + Unsafe.Add(ref counts, 512 + s) + Unsafe.Add(ref counts, 768 + s);
        }

        return CountDistinct(out maxSymbol);
    }

    /// <summary>
    /// A Huffman code of at most <see cref="MaxCodeLength"/> bits for the counted symbols (at least two, all
    /// below 128): lengths in <see cref="_lengths"/>, codes as zstd's decoder assigns them in <see cref="_codes"/>;
    /// <paramref name="bits"/> is the coded size of the block. Returns the longest code's length.
    /// </summary>
    private int BuildCode(int maxSymbol, out long bits)
    {
        int n = 0;
        for (int s = 0; s <= maxSymbol; s++)
        {
            if (_counts[s] != 0)
            {
                _symbols[n++] = s;
            }
        }

        // Symbols by ascending count (ties by symbol), for the two-queue construction.
        Span<int> symbols = _symbols.AsSpan(0, n);
        for (int i = 1; i < n; i++)
        {
            int s = symbols[i];
            int j = i - 1;
            while (j >= 0 && _counts[symbols[j]] > _counts[s])
            {
                symbols[j + 1] = symbols[j];
                j--;
            }

            symbols[j + 1] = s;
        }

        Span<uint> frequencies = _frequencies;
        for (int i = 0; i < n; i++)
        {
            frequencies[i] = _counts[symbols[i]];
        }

        int maxLength;
        while ((maxLength = BuildLengths(n)) > MaxCodeLength)
        {
            // Too deep: flatten the counts and build again (rare: needs counts spanning more than 2^11).
            for (int i = 0; i < n; i++)
            {
                frequencies[i] = (frequencies[i] >> 1) | 1;
            }
        }

        // Canonical codes as zstd's decoder builds its table (RFC 8878 §4.2.1.3): weight = maxLength + 1 - length;
        // from the lowest weight up, symbols in ascending order get consecutive ranges of 2^(weight-1) entries.
        Span<int> rankStart = stackalloc int[MaxCodeLength + 2];
        rankStart.Clear();
        Span<int> lengthOf = stackalloc int[MaxDirectSymbols];
        lengthOf.Clear();
        for (int i = 0; i < n; i++)
        {
            lengthOf[symbols[i]] = _lengths[i];
            rankStart[maxLength + 1 - _lengths[i]]++;
        }

        int next = 0;
        for (int w = 1; w <= maxLength; w++)
        {
            int count = rankStart[w];
            rankStart[w] = next;
            next += count << (w - 1);
        }

        bits = 0;
        for (int s = 0; s <= maxSymbol; s++)
        {
            int length = lengthOf[s];
            if (length == 0)
            {
                continue;
            }

            int w = maxLength + 1 - length;
            _codes[s] = (uint)(rankStart[w] >> (w - 1)) | ((uint)length << 16);
            rankStart[w] += 1 << (w - 1);
            bits += (long)_counts[s] * length;
        }

        return maxLength;
    }

    /// <summary>Huffman code lengths of the <paramref name="n"/> ascending frequencies into <see cref="_lengths"/>; returns the longest.</summary>
    private int BuildLengths(int n)
    {
        // Two queues: leaves 0..n-1 (ascending), internal nodes n..2n-2 (created in ascending order).
        Span<uint> weight = _frequencies;
        Span<int> parent = _parents;
        int leaf = 0, node = n, created = n;
        for (; created < 2 * n - 1; created++)
        {
            int a = Smallest(weight, ref leaf, ref node, n, created);
            int b = Smallest(weight, ref leaf, ref node, n, created);
            weight[created] = weight[a] + weight[b];
            parent[a] = created;
            parent[b] = created;
        }

        // Depths from the root down: internal nodes were created in order, so a parent comes after its children.
        Span<int> depth = stackalloc int[2 * MaxDirectSymbols];
        int root = 2 * n - 2;
        depth[root] = 0;
        for (int i = root - 1; i >= n; i--)
        {
            depth[i] = depth[parent[i]] + 1;
        }

        int longest = 0;
        for (int i = 0; i < n; i++)
        {
            int d = depth[parent[i]] + 1;
            _lengths[i] = d;
            longest = Math.Max(longest, d);
        }

        return longest;
    }

    private static int Smallest(Span<uint> weight, ref int leaf, ref int node, int n, int created)
    {
        if (leaf < n && (node >= created || weight[leaf] <= weight[node]))
        {
            return leaf++;
        }

        return node++;
    }

    private int WriteCompressedBlock(ReadOnlySpan<byte> block, int maxSymbol, int maxLength, Span<byte> destination)
    {
        // Huffman tree description, direct representation (§4.2.1.1): 127 + N, then N 4-bit weights of symbols
        // 0..N-1; the weight of symbol N (the largest, always present) is implied.
        int at = LiteralsHeaderLength;
        destination[at++] = (byte)(127 + maxSymbol);
        for (int s = 0; s < maxSymbol; s += 2)
        {
            int high = Weight(s, maxLength);
            int low = s + 1 < maxSymbol ? Weight(s + 1, maxLength) : 0;
            destination[at++] = (byte)((high << 4) | low);
        }

        // Four streams (§3.1.1.3.1.6): the first three hold (size + 3) / 4 literals each, the last the rest.
        int jumpTable = at;
        at += JumpTableLength;
        int segment = (block.Length + 3) / 4;
        Span<int> sizes = stackalloc int[4];
        for (int i = 0; i < 4; i++)
        {
            int start = Math.Min(i * segment, block.Length);
            int end = i == 3 ? block.Length : Math.Min(start + segment, block.Length);
            sizes[i] = EncodeStream(block[start..end], destination[at..]);
            at += sizes[i];
        }

        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(jumpTable + (2 * i))..], checked((ushort)sizes[i]));
        }

        // Literals section header, Size_Format 11: type 2 bits, format 2 bits, Regenerated_Size 18, Compressed_Size 18.
        ulong header = CompressedLiterals | (FourStreams18BitSizes << 2) | ((ulong)block.Length << 4) | ((ulong)(at - LiteralsHeaderLength) << 22);
        Span<byte> headerBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(headerBytes, header);
        headerBytes[..LiteralsHeaderLength].CopyTo(destination);

        destination[at++] = 0; // Sequences_Section_Header: Number_of_Sequences = 0, nothing follows
        return at;
    }

    private int Weight(int symbol, int maxLength)
    {
        int length = _counts[symbol] == 0 ? 0 : (int)(_codes[symbol] >> 16);
        return length == 0 ? 0 : maxLength + 1 - length;
    }

    /// <summary>
    /// One Huffman stream (§4.2.2): read backward by the decoder, so the literals are written last to first, low
    /// bits first, closed by a 1 bit. Returns its length.
    /// </summary>
    private int EncodeStream(ReadOnlySpan<byte> literals, Span<byte> destination)
    {
        ref uint codes = ref MemoryMarshal.GetArrayDataReference(_codes);
        ref byte source = ref MemoryMarshal.GetReference(literals);
        ref byte output = ref MemoryMarshal.GetReference(destination);
        ulong container = 0;
        int used = 0;
        int at = 0;
        int i = literals.Length;

        // Four symbols (at most 44 bits) between flushes of whole bytes; the destination has 8 bytes of slack
        // (its bound counts two bytes a stream and the block's spare room).
        for (; i >= 4; i -= 4)
        {
            uint e0 = Unsafe.Add(ref codes, Unsafe.Add(ref source, i - 1));
            uint e1 = Unsafe.Add(ref codes, Unsafe.Add(ref source, i - 2));
            uint e2 = Unsafe.Add(ref codes, Unsafe.Add(ref source, i - 3));
            uint e3 = Unsafe.Add(ref codes, Unsafe.Add(ref source, i - 4));
            container |= (ulong)(e0 & 0xFFFF) << used;
            used += (int)(e0 >> 16);
            container |= (ulong)(e1 & 0xFFFF) << used;
            used += (int)(e1 >> 16);
            container |= (ulong)(e2 & 0xFFFF) << used;
            used += (int)(e2 >> 16);
            container |= (ulong)(e3 & 0xFFFF) << used;
            used += (int)(e3 >> 16);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref output, at), container);
            int whole = used >> 3;
            at += whole;
            container >>= whole << 3; // whole <= 6: at most 51 bits were held
            used &= 7;
        }

        for (; i > 0; i--)
        {
            uint e = Unsafe.Add(ref codes, Unsafe.Add(ref source, i - 1));
            container |= (ulong)(e & 0xFFFF) << used;
            used += (int)(e >> 16);
        }

        container |= 1UL << used; // the end mark
        used++;
        int bytes = (used + 7) >> 3;
        for (int k = 0; k < bytes; k++)
        {
            destination[at + k] = (byte)(container >> (8 * k));
        }

        return at + bytes;
    }

    private static void WriteBlockHeader(Span<byte> destination, bool last, int type, int size)
    {
        // §3.1.1.2.1: Last_Block (1 bit), Block_Type (2 bits), Block_Size (21 bits), little-endian.
        uint header = (last ? 1u : 0u) | ((uint)type << 1) | ((uint)size << 3);
        destination[0] = (byte)header;
        destination[1] = (byte)(header >> 8);
        destination[2] = (byte)(header >> 16);
    }
}
