using System.Buffers.Binary;

namespace Bamflow.Parquet;

/// <summary>
/// Joins Parquet files of one schema ("parts", each written by its own writer, each holding whole row groups)
/// into one Parquet file, front to back: <c>PAR1</c>, every part's row-group bytes in turn, then one footer that
/// lists all their row groups with their offsets moved to where the bytes landed. This is what lets row groups
/// be encoded in parallel by independent writers.
/// </summary>
/// <remarks>
/// A Parquet file is <c>PAR1</c>, the column chunks (and any page indexes or bloom filters), the footer (a Thrift
/// compact <c>FileMetaData</c>), its 4-byte little-endian length and <c>PAR1</c>. Offsets in <c>FileMetaData</c> are
/// absolute, so a part's row groups move by (where its bytes land − 4).
/// https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift
/// </remarks>
internal sealed class ParquetStitcher(Stream output)
{
    // parquet.thrift field ids.
    private const short FileNumRows = 3, FileRowGroups = 4;
    private const short GroupColumns = 1, GroupTotalByteSize = 2, GroupNumRows = 3, GroupFileOffset = 5, GroupTotalCompressedSize = 6, GroupOrdinal = 7;
    private const short ChunkFileOffset = 2, ChunkMetaData = 3, ChunkOffsetIndexOffset = 4, ChunkOffsetIndexLength = 5, ChunkColumnIndexOffset = 6;
    private const short MetaDataPageOffset = 9, MetaIndexPageOffset = 10, MetaDictionaryPageOffset = 11, MetaBloomFilterOffset = 14;

    private static ReadOnlySpan<byte> Magic => "PAR1"u8;

    private readonly List<object> _rowGroups = [];
    private long _position = -1;
    private long _rows;

    /// <summary>Rows in the row groups appended so far.</summary>
    public long Rows => _rows;

    /// <summary>Writes the leading magic; call once, first.</summary>
    public void WriteHeader()
    {
        output.Write(Magic);
        _position = Magic.Length;
    }

    /// <summary>Appends the row groups of <paramref name="part"/>, a complete Parquet file.</summary>
    public void Append(ReadOnlySpan<byte> part) => Append(part, []);

    /// <summary>
    /// Appends the row group of <paramref name="part"/>, a complete Parquet file of the other columns, and the column
    /// chunks in <paramref name="columns"/> (written elsewhere, ascending by leaf index), each put in its place
    /// among the row group's columns.
    /// </summary>
    public void Append(ReadOnlySpan<byte> part, IReadOnlyList<ColumnChunkPart> columns)
    {
        (ThriftStruct footer, int footerStart) = ReadFooter(part);
        long delta = _position - Magic.Length;
        var groups = footer[FileRowGroups] as ThriftStruct.ThriftList;
        if (columns.Count > 0 && groups?.Items.Count != 1)
        {
            throw new InvalidDataException($"Parquet part with {groups?.Items.Count ?? 0} row groups: columns written elsewhere need exactly one");
        }

        if (groups is not null)
        {
            foreach (ThriftStruct group in groups.Items.Cast<ThriftStruct>())
            {
                Shift(group, delta);
                if (group[GroupOrdinal] is short)
                {
                    group[GroupOrdinal] = checked((short)_rowGroups.Count);
                }

                _rows += group[GroupNumRows] is long rows ? rows : throw new InvalidDataException("Parquet part: a row group without num_rows");
                _rowGroups.Add(group);
            }
        }

        output.Write(part[Magic.Length..footerStart]);
        _position += footerStart - Magic.Length;
        long[] starts = [.. columns.Select(column => AppendColumn((ThriftStruct)groups!.Items[0], column))];

        // Their offset indexes after them (as Arrow C++ puts its own after the row group's pages), page offsets absolute.
        for (int c = 0; c < columns.Count; c++)
        {
            long at = starts[c];
            var pages = columns[c].Pages.Select(p => (object)new ThriftStruct().AddI64(1, p.Offset + at).AddI32(2, p.Size).AddI64(3, p.FirstRow));
            byte[] index = new ThriftStruct().AddList(1, ThriftStruct.Struct, pages).ToArray();
            columns[c].Chunk.AddI64(ChunkOffsetIndexOffset, _position).AddI32(ChunkOffsetIndexLength, index.Length);
            output.Write(index);
            _position += index.Length;
        }
    }

    /// <summary>
    /// Writes the footer: <paramref name="template"/>'s (a complete Parquet file of the same schema and
    /// properties, e.g. with no rows), listing every row group appended.
    /// </summary>
    public void Finish(ReadOnlySpan<byte> template)
    {
        (ThriftStruct footer, _) = ReadFooter(template);
        var templateGroups = footer[FileRowGroups] as ThriftStruct.ThriftList ?? throw new InvalidDataException("Parquet template: no row_groups list");
        footer[FileNumRows] = _rows;
        footer[FileRowGroups] = templateGroups with { Items = _rowGroups };
        byte[] bytes = footer.ToArray();
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(trailer, bytes.Length);
        Magic.CopyTo(trailer[4..]);
        output.Write(bytes);
        output.Write(trailer);
        _position += bytes.Length + trailer.Length;
    }

    /// <summary>Writes the column's pages, puts its chunk among the row group's columns; returns where the pages start.</summary>
    private long AppendColumn(ThriftStruct group, ColumnChunkPart column)
    {
        long at = _position;
        output.Write(column.Bytes.Span);
        _position += column.Bytes.Length;

        // Its offsets count from its first byte; the row group's totals now include it.
        ThriftStruct chunk = column.Chunk;
        var meta = (ThriftStruct)chunk[ChunkMetaData]!;
        meta[MetaDataPageOffset] = (long)meta[MetaDataPageOffset]! + at;
        var list = (ThriftStruct.ThriftList)group[GroupColumns]!;
        if (column.LeafIndex > list.Items.Count)
        {
            throw new InvalidDataException($"column chunk for leaf {column.LeafIndex} of a row group of {list.Items.Count} columns");
        }

        list.Items.Insert(column.LeafIndex, chunk);
        group[GroupTotalByteSize] = (long)group[GroupTotalByteSize]! + column.UncompressedSize;
        if (group[GroupTotalCompressedSize] is long compressed)
        {
            group[GroupTotalCompressedSize] = compressed + column.CompressedSize;
        }

        if (column.LeafIndex == 0 && group[GroupFileOffset] is long)
        {
            group[GroupFileOffset] = at; // the row group's first column is now this one
        }

        return at;
    }

    private static (ThriftStruct Footer, int FooterStart) ReadFooter(ReadOnlySpan<byte> file)
    {
        if (file.Length < 12 || !file[..4].SequenceEqual(Magic) || !file[^4..].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"Parquet part of {file.Length} bytes: no PAR1 at both ends");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(file[^8..]);
        int footerStart = file.Length - 8 - length;
        if (length <= 0 || footerStart < Magic.Length)
        {
            throw new InvalidDataException($"Parquet part of {file.Length} bytes: footer length {length} out of range");
        }

        return (ThriftStruct.Read(file[footerStart..(file.Length - 8)]), footerStart);
    }

    private static void Shift(ThriftStruct group, long delta)
    {
        Move(group, GroupFileOffset, delta);
        if (group[GroupColumns] is ThriftStruct.ThriftList columns)
        {
            foreach (ThriftStruct column in columns.Items.Cast<ThriftStruct>())
            {
                Move(column, ChunkFileOffset, delta);
                Move(column, ChunkOffsetIndexOffset, delta);
                Move(column, ChunkColumnIndexOffset, delta);
                if (column[ChunkMetaData] is ThriftStruct meta)
                {
                    Move(meta, MetaDataPageOffset, delta);
                    Move(meta, MetaIndexPageOffset, delta);
                    Move(meta, MetaDictionaryPageOffset, delta);
                    Move(meta, MetaBloomFilterOffset, delta);
                }
            }
        }
    }

    // An offset present and positive (bytes 0–3 are the magic, so 0 is never a place: some writers leave 0 in the
    // deprecated file_offset fields for "not set").
    private static void Move(ThriftStruct value, short id, long delta)
    {
        if (value[id] is long offset && offset > 0)
        {
            value[id] = offset + delta;
        }
    }
}
