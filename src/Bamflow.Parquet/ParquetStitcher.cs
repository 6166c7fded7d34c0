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
    private const short GroupColumns = 1, GroupNumRows = 3, GroupFileOffset = 5, GroupOrdinal = 7;
    private const short ChunkFileOffset = 2, ChunkMetaData = 3, ChunkOffsetIndexOffset = 4, ChunkColumnIndexOffset = 6;
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
    public void Append(ReadOnlySpan<byte> part)
    {
        (ThriftStruct footer, int footerStart) = ReadFooter(part);
        long delta = _position - Magic.Length;
        if (footer[FileRowGroups] is ThriftStruct.ThriftList groups)
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
