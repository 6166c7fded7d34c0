using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Apache.Arrow;

namespace Bamflow.Parquet;

/// <summary>
/// Writes one row group's column chunk of a top-level, nullable string column (Parquet <c>optional binary</c>,
/// logical type STRING) straight from the Arrow batches: data pages (v1) whose definition levels are the validity
/// bitmap (RLE/bit-packed hybrid), whose values are DELTA_LENGTH_BYTE_ARRAY (the lengths delta-packed, then the
/// bytes as they lie in the Arrow buffer), each page one zstd frame. The frames are written by whichever of two
/// encoders writes the page smaller (tried on the writer's first page and every 64th after it): zstd's own
/// compressor (level 1, through ZstdSharp), or <see cref="ZstdHuffmanEncoder"/> (Huffman-coded literals only, several
/// times faster, and smaller where the bytes have little structure beyond their frequencies, as binned base
/// qualities). Offsets in the metadata it returns count from the start of the chunk's bytes; the stitcher moves them
/// to where the bytes land.
/// </summary>
/// <remarks>https://github.com/apache/parquet-format/blob/master/Encodings.md, parquet.thrift (PageHeader, ColumnMetaData, OffsetIndex).</remarks>
internal sealed class ByteArrayColumnWriter : IDisposable
{
    // parquet.thrift enums and field ids.
    private const int TypeByteArray = 6, CodecZstd = 6, PageData = 0;
    private const int EncodingRle = 3, EncodingDeltaLengthByteArray = 6;
    private const int MaxPageValueBytes = 1 << 20; // Arrow C++'s default data page size
    private const int MaxPageRows = 20_000;        // and its default rows per page
    private const int DeltaBlock = 128, DeltaMiniblocks = 4, DeltaMiniblock = DeltaBlock / DeltaMiniblocks;
    private const int ChooseEvery = 64; // pages: the encoder is chosen on the writer's first page and every 64th

    private readonly ZstdHuffmanEncoder _encoder = new();
    private readonly ZstdSharp.Compressor _zstd = new(ParquetSinkOptions.DefaultZstdLevel);
    private byte[] _alternative = [];
    private byte[] _contiguous = [];
    private readonly List<(long Offset, int Size, long FirstRow)> _pages = [];
    private byte[] _chunk = new byte[1 << 16];
    private byte[] _frame = new byte[ZstdHuffmanEncoder.MaxCompressedLength(MaxPageValueBytes + (1 << 16))];
    private byte[] _prefix = new byte[1 << 16];
    private byte[] _gathered = [];
    private readonly int[] _deltaScratch = new int[DeltaBlock];
    private int _chunkLength;
    private long _rows;
    private long _nulls;
    private long _valueBytes;
    private long _uncompressed;
    private bool _entropy;
    private long _pagesWritten;
    private long _entropyPages;
    private long _zstdPages;

    public ByteArrayColumnWriter(string name, int leafIndex)
    {
        Name = name;
        LeafIndex = leafIndex;
    }

    /// <summary>The column's name (its path in the schema: a top-level column).</summary>
    public string Name { get; }

    /// <summary>Pages written by the entropy coder and by zstd's own compressor, since the writer was made.</summary>
    public (long Entropy, long Zstd) PagesByEncoder => (_entropyPages, _zstdPages);

    /// <summary>The column's position among the schema's leaf columns (its place in a row group's column list).</summary>
    public int LeafIndex { get; }

    /// <summary>Encodes the rows of <paramref name="column"/> (a Utf8 or Binary array, possibly a slice).</summary>
    public void Add(IArrowArray column)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArrayData data = column.Data;
        ReadOnlySpan<int> offsets = MemoryMarshal.Cast<byte, int>(data.Buffers[1].Span).Slice(data.Offset, data.Length + 1);
        bool allValid = data.GetNullCount() == 0;
        ReadOnlySpan<byte> validity = allValid ? default : data.Buffers[0].Span;
        ReadOnlySpan<byte> values = data.Buffers[2].Span;
        int row = 0;
        while (row < data.Length)
        {
            // A page: up to MaxPageRows rows and about MaxPageValueBytes of values (at least one row).
            int end = row + 1;
            int limit = Math.Min(data.Length, row + MaxPageRows);
            while (end < limit && offsets[end + 1] - offsets[row] <= MaxPageValueBytes)
            {
                end++;
            }

            WritePage(offsets[row..(end + 1)], validity, data.Offset + row, allValid, values);
            row = end;
        }
    }

    /// <summary>
    /// Ends the chunk and returns it as a part for <see cref="ParquetStitcher"/>, which writes its offset index once
    /// the pages' place in the file is known. The part's bytes are this writer's own buffer: valid until <see cref="Reset"/>.
    /// </summary>
    public ColumnChunkPart Finish()
    {
        long dataLength = _chunkLength;

        var meta = new ThriftStruct()
            .AddI32(1, TypeByteArray)
            .AddList(2, ThriftStruct.I32, [EncodingRle, EncodingDeltaLengthByteArray])
            .AddList(3, ThriftStruct.Binary, [System.Text.Encoding.UTF8.GetBytes(Name)])
            .AddI32(4, CodecZstd)
            .AddI64(5, _rows)
            .AddI64(6, _uncompressed)
            .AddI64(7, dataLength)
            .AddI64(9, 0) // data_page_offset: the chunk's first page (moved by the stitcher)
            .AddList(13, ThriftStruct.Struct, [new ThriftStruct().AddI32(1, PageData).AddI32(2, EncodingDeltaLengthByteArray).AddI32(3, _pages.Count)])
            .Add(16, ThriftStruct.Struct, new ThriftStruct()
                .AddI64(1, _valueBytes)
                .AddList(3, ThriftStruct.I64, [_nulls, _rows - _nulls]));
        var chunk = new ThriftStruct()
            .AddI64(2, 0) // file_offset: deprecated, 0 as Arrow C++ writes it
            .Add(3, ThriftStruct.Struct, meta);
        return new ColumnChunkPart(LeafIndex, _chunk.AsMemory(0, _chunkLength), chunk, _uncompressed, dataLength, [.. _pages]);
    }

    /// <summary>Forgets the chunk so far (and the bytes of the last <see cref="Finish"/>), to write another.</summary>
    public void Reset()
    {
        _pages.Clear();
        _chunkLength = 0;
        _rows = _nulls = _valueBytes = _uncompressed = 0;
    }

    private void WritePage(ReadOnlySpan<int> offsets, ReadOnlySpan<byte> validity, int firstBit, bool allValid, ReadOnlySpan<byte> values)
    {
        int rows = offsets.Length - 1;
        int nulls = allValid ? 0 : rows - BitUtility.CountBits(validity, firstBit, rows);

        // Definition levels (max level 1: bit width 1), RLE-encoded with a 4-byte length (data page v1).
        int prefixBound = 4 + 10 + ((rows + 7) / 8) + DeltaBound(rows - nulls);
        if (_prefix.Length < prefixBound)
        {
            _prefix = new byte[prefixBound];
        }

        Span<byte> prefix = _prefix;
        int at = 4;
        if (nulls == 0 || nulls == rows)
        {
            at += WriteVarint(prefix[at..], (ulong)rows << 1);        // an RLE run of `rows` values
            prefix[at++] = nulls == 0 ? (byte)1 : (byte)0;
        }
        else
        {
            int groups = (rows + 7) / 8;
            at += WriteVarint(prefix[at..], ((ulong)groups << 1) | 1); // a bit-packed run: the validity bits themselves
            CopyBits(validity, firstBit, rows, prefix.Slice(at, groups));
            at += groups;
        }

        BinaryPrimitives.WriteInt32LittleEndian(prefix, at - 4);

        // The values: DELTA_LENGTH_BYTE_ARRAY = the non-null lengths (DELTA_BINARY_PACKED), then their bytes.
        ReadOnlySpan<byte> bytes = values[offsets[0]..offsets[^1]];
        at += WriteLengths(offsets, validity, firstBit, nulls == 0, prefix[at..], out long valueBytes);
        if (valueBytes != bytes.Length)
        {
            bytes = Gather(offsets, validity, firstBit, values, valueBytes); // a null slot that holds bytes: leave them out
        }

        int uncompressed = at + bytes.Length;
        int bound = Math.Max(ZstdHuffmanEncoder.MaxCompressedLength(uncompressed), ZstdSharp.Compressor.GetCompressBound(uncompressed));
        if (_frame.Length < bound)
        {
            _frame = new byte[bound];
        }

        // The encoder is chosen on the writer's first page and again every 64th (a file's pages are much alike; a
        // choice costs the other encoder's time on one page): both write that page, the smaller frame is kept, and its
        // encoder writes the pages up to the next choice. Not on a sample of a page: zstd's matches may lie farther
        // apart than a sample is long, as in long reads of one region.
        int compressed;
        ReadOnlySpan<byte> frame;
        if (_pagesWritten++ % ChooseEvery == 0)
        {
            int entropy = _encoder.Compress(prefix[..at], bytes, _frame);
            if (_alternative.Length < bound)
            {
                _alternative = new byte[bound];
            }

            int zstd = CompressZstd(prefix[..at], bytes, _alternative);
            _entropy = entropy <= zstd;
            (compressed, frame) = _entropy ? (entropy, _frame) : (zstd, _alternative);
        }
        else
        {
            compressed = _entropy ? _encoder.Compress(prefix[..at], bytes, _frame) : CompressZstd(prefix[..at], bytes, _frame);
            frame = _frame;
        }

        if (_entropy)
        {
            _entropyPages++;
        }
        else
        {
            _zstdPages++;
        }

        byte[] header = new ThriftStruct()
            .AddI32(1, PageData)
            .AddI32(2, uncompressed)
            .AddI32(3, compressed)
            .Add(5, ThriftStruct.Struct, new ThriftStruct()
                .AddI32(1, rows)
                .AddI32(2, EncodingDeltaLengthByteArray)
                .AddI32(3, EncodingRle)
                .AddI32(4, EncodingRle))
            .ToArray();

        EnsureChunk(header.Length + compressed);
        _pages.Add((_chunkLength, header.Length + compressed, _rows));
        header.CopyTo(_chunk, _chunkLength);
        frame[..compressed].CopyTo(_chunk.AsSpan(_chunkLength + header.Length));
        _chunkLength += header.Length + compressed;
        _uncompressed += header.Length + uncompressed;
        _rows += rows;
        _nulls += nulls;
        _valueBytes += valueBytes;
    }

    /// <summary>One zstd frame of the page (the prefix and the values made contiguous first) by zstd's own compressor.</summary>
    private int CompressZstd(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> values, Span<byte> destination)
    {
        int length = prefix.Length + values.Length;
        if (_contiguous.Length < length)
        {
            _contiguous = new byte[Math.Max(length, _contiguous.Length * 2)];
        }

        prefix.CopyTo(_contiguous);
        values.CopyTo(_contiguous.AsSpan(prefix.Length));
        return _zstd.Wrap(_contiguous.AsSpan(0, length), destination);
    }

    /// <inheritdoc />
    public void Dispose() => _zstd.Dispose();

    /// <summary>The non-null values' bytes, copied together (only for arrays whose null slots hold bytes: Bamflow's never do).</summary>
    private ReadOnlySpan<byte> Gather(ReadOnlySpan<int> offsets, ReadOnlySpan<byte> validity, int firstBit, ReadOnlySpan<byte> values, long valueBytes)
    {
        if (_gathered.Length < valueBytes)
        {
            _gathered = new byte[valueBytes];
        }

        int at = 0;
        for (int i = 0; i + 1 < offsets.Length; i++)
        {
            if (IsValid(validity, firstBit + i))
            {
                ReadOnlySpan<byte> value = values[offsets[i]..offsets[i + 1]];
                value.CopyTo(_gathered.AsSpan(at));
                at += value.Length;
            }
        }

        return _gathered.AsSpan(0, at);
    }

    private void EnsureChunk(int more)
    {
        if (_chunk.Length - _chunkLength < more)
        {
            System.Array.Resize(ref _chunk, Math.Max(_chunk.Length * 2, _chunkLength + more));
        }
    }

    private static bool IsValid(ReadOnlySpan<byte> validity, int bit) => BitUtility.GetBit(validity, bit);

    /// <summary>The validity bits <paramref name="firstBit"/>.. as bytes, least significant bit first, the rest zero.</summary>
    private static void CopyBits(ReadOnlySpan<byte> validity, int firstBit, int rows, Span<byte> destination)
    {
        destination.Clear();
        if ((firstBit & 7) == 0)
        {
            validity.Slice(firstBit >> 3, (rows + 7) / 8).CopyTo(destination);
            if ((rows & 7) != 0)
            {
                destination[^1] &= (byte)((1 << (rows & 7)) - 1);
            }

            return;
        }

        for (int i = 0; i < rows; i++)
        {
            if (IsValid(validity, firstBit + i))
            {
                destination[i >> 3] |= (byte)(1 << (i & 7));
            }
        }
    }

    /// <summary>The most bytes <see cref="WriteLengths"/> writes for <paramref name="count"/> lengths.</summary>
    private static int DeltaBound(int count) => 4 * 10 + ((count / DeltaBlock) + 1) * (10 + DeltaMiniblocks + (DeltaBlock * 4));

    /// <summary>DELTA_BINARY_PACKED of the non-null values' lengths: blocks of 128, 4 miniblocks of 32.</summary>
    private int WriteLengths(ReadOnlySpan<int> offsets, ReadOnlySpan<byte> validity, int firstBit, bool allValid, Span<byte> destination, out long total)
    {
        int rows = offsets.Length - 1;
        int count = 0;
        int first = 0;
        total = 0;
        for (int i = 0; i < rows; i++)
        {
            if (allValid || IsValid(validity, firstBit + i))
            {
                int length = offsets[i + 1] - offsets[i];
                if (count == 0)
                {
                    first = length;
                }

                count++;
                total += length;
            }
        }

        int at = WriteVarint(destination, DeltaBlock);
        at += WriteVarint(destination[at..], DeltaMiniblocks);
        at += WriteVarint(destination[at..], (ulong)count);
        at += WriteVarint(destination[at..], ZigZag(first));

        // The deltas after the first value, a block at a time.
        Span<int> deltas = _deltaScratch;
        int previous = first;
        int seen = 0;
        int inBlock = 0;
        for (int i = 0; i < rows; i++)
        {
            if (!(allValid || IsValid(validity, firstBit + i)))
            {
                continue;
            }

            int length = offsets[i + 1] - offsets[i];
            if (seen++ == 0)
            {
                continue;
            }

            deltas[inBlock++] = length - previous;
            previous = length;
            if (inBlock == DeltaBlock)
            {
                at += WriteDeltaBlock(deltas, destination[at..]);
                inBlock = 0;
            }
        }

        if (inBlock > 0)
        {
            at += WriteDeltaBlock(deltas[..inBlock], destination[at..]);
        }

        return at;
    }

    private static int WriteDeltaBlock(ReadOnlySpan<int> deltas, Span<byte> destination)
    {
        long min = long.MaxValue;
        foreach (int d in deltas)
        {
            min = Math.Min(min, d);
        }

        int at = WriteVarint(destination, ZigZag(min));
        int widthsAt = at;
        at += DeltaMiniblocks;
        destination.Slice(widthsAt, DeltaMiniblocks).Clear();
        for (int m = 0; m * DeltaMiniblock < deltas.Length; m++)
        {
            ReadOnlySpan<int> mini = deltas.Slice(m * DeltaMiniblock, Math.Min(DeltaMiniblock, deltas.Length - (m * DeltaMiniblock)));
            ulong max = 0;
            foreach (int d in mini)
            {
                max = Math.Max(max, (ulong)(d - min));
            }

            int width = 64 - BitOperations.LeadingZeroCount(max);
            destination[widthsAt + m] = (byte)width;

            // 32 values of `width` bits (at most 32: at most 39 bits held), least significant bit first; a short last
            // miniblock is padded with zeros.
            ulong buffer = 0;
            int bits = 0;
            for (int i = 0; i < DeltaMiniblock; i++)
            {
                ulong value = i < mini.Length ? (ulong)(mini[i] - min) : 0;
                buffer |= value << bits;
                bits += width;
                while (bits >= 8)
                {
                    destination[at++] = (byte)buffer;
                    buffer >>= 8;
                    bits -= 8;
                }
            }
        }

        return at;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        int at = 0;
        while (value >= 0x80)
        {
            destination[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[at++] = (byte)value;
        return at;
    }
}

/// <summary>
/// A column chunk written outside Arrow C++ for one row group: its pages' bytes, its <c>ColumnChunk</c> metadata
/// (no offset index yet) with offsets counted from the start of <see cref="Bytes"/>, the sizes of its pages (headers
/// included) that the row group's totals count, and where each page starts (for the offset index).
/// </summary>
internal sealed record ColumnChunkPart(int LeafIndex, ReadOnlyMemory<byte> Bytes, ThriftStruct Chunk, long UncompressedSize, long CompressedSize,
    IReadOnlyList<(long Offset, int Size, long FirstRow)> Pages);
