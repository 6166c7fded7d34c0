using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Bamflow.Parquet;

/// <summary>
/// A Thrift compact-protocol struct read into a tree that keeps every field, known or not, so a Parquet footer
/// (<c>FileMetaData</c>) can be read, a few offsets changed, and written back with nothing lost. Only what
/// Parquet's footer uses: no maps of structs are interpreted, but maps, sets and lists of any type round-trip.
/// </summary>
/// <remarks>Thrift compact protocol: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md</remarks>
internal sealed class ThriftStruct
{
    // Compact-protocol type ids.
    internal const byte BoolTrue = 1, BoolFalse = 2, Byte = 3, I16 = 4, I32 = 5, I64 = 6, Double = 7, Binary = 8, List = 9, Set = 10, Map = 11, Struct = 12;
    private const int MaxDepth = 64;

    private readonly List<ThriftField> _fields = [];

    /// <summary>The fields in the order read (Thrift writes them in id order).</summary>
    public IReadOnlyList<ThriftField> Fields => _fields;

    /// <summary>The value of field <paramref name="id"/>, or null when absent.</summary>
    public object? this[short id]
    {
        get => _fields.Find(f => f.Id == id)?.Value;
        set
        {
            int i = _fields.FindIndex(f => f.Id == id);
            if (i < 0)
            {
                throw new InvalidOperationException($"field {id} is not present; only present fields can be changed");
            }

            _fields[i] = _fields[i] with { Value = value ?? throw new ArgumentNullException(nameof(value)) };
        }
    }

    /// <summary>Appends a field (callers add them in ascending id order, as Thrift writes them); returns this struct.</summary>
    public ThriftStruct Add(short id, byte type, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _fields.Add(new ThriftField(id, type, value));
        return this;
    }

    /// <summary>Appends an i32 field.</summary>
    public ThriftStruct AddI32(short id, int value) => Add(id, I32, value);

    /// <summary>Appends an i64 field.</summary>
    public ThriftStruct AddI64(short id, long value) => Add(id, I64, value);

    /// <summary>Appends a list field of <paramref name="elementType"/> elements.</summary>
    public ThriftStruct AddList(short id, byte elementType, IEnumerable<object> items) => Add(id, List, new ThriftList(List, elementType, [.. items]));

    public static ThriftStruct Read(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        ThriftStruct result = reader.ReadStruct(0);
        return result;
    }

    public byte[] ToArray()
    {
        var writer = new Writer();
        writer.WriteStruct(this);
        return writer.ToArray();
    }

    /// <summary>One field: its id, its compact type id (booleans as <c>1</c>) and its value.</summary>
    /// <param name="Id">The field id.</param>
    /// <param name="Type">The compact type id; 1 for a boolean field whatever its value.</param>
    /// <param name="Value">bool, sbyte, short, int, long, double, byte[], <see cref="ThriftList"/>, <see cref="ThriftMap"/> or <see cref="ThriftStruct"/> (a boolean inside a container: its byte).</param>
    internal sealed record ThriftField(short Id, byte Type, object Value);

    /// <summary>A list or set: its element type and elements.</summary>
    internal sealed record ThriftList(byte Kind, byte ElementType, List<object> Items);

    /// <summary>A map: key and value types and the entries in order.</summary>
    internal sealed record ThriftMap(byte KeyType, byte ValueType, List<(object Key, object Value)> Entries);

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public ThriftStruct ReadStruct(int depth)
        {
            if (depth > MaxDepth)
            {
                Fail("structs nested too deeply");
            }

            var result = new ThriftStruct();
            short lastId = 0;
            while (true)
            {
                byte header = ReadByte();
                if (header == 0)
                {
                    return result;
                }

                byte type = (byte)(header & 0x0F);
                int delta = header >> 4;
                short id = delta != 0 ? (short)(lastId + delta) : (short)ZigZag(ReadVarint());
                lastId = id;
                object value = type is BoolTrue or BoolFalse ? type == BoolTrue : ReadValue(type, depth);
                result._fields.Add(new ThriftField(id, type is BoolFalse ? BoolTrue : type, value));
            }
        }

        private object ReadValue(byte type, int depth)
        {
            switch (type)
            {
                case BoolTrue:
                case BoolFalse:
                    return ReadByte(); // inside a container: one byte, kept as it is (writers differ on false)
                case Byte:
                    return (sbyte)ReadByte();
                case I16:
                    return (short)ZigZag(ReadVarint());
                case I32:
                    return (int)ZigZag(ReadVarint());
                case I64:
                    return ZigZag(ReadVarint());
                case Double:
                    return BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
                case Binary:
                    return Take(Length()).ToArray();
                case List:
                case Set:
                    {
                        byte header = ReadByte();
                        int count = header >> 4 == 15 ? Length() : header >> 4;
                        byte elementType = (byte)(header & 0x0F);
                        var items = new List<object>(Math.Min(count, 1024));
                        for (int i = 0; i < count; i++)
                        {
                            items.Add(ReadValue(elementType, depth + 1));
                        }

                        return new ThriftList(type, elementType, items);
                    }

                case Map:
                    {
                        int count = Length();
                        byte types = count > 0 ? ReadByte() : (byte)0;
                        var entries = new List<(object, object)>(Math.Min(count, 1024));
                        for (int i = 0; i < count; i++)
                        {
                            entries.Add((ReadValue((byte)(types >> 4), depth + 1), ReadValue((byte)(types & 0x0F), depth + 1)));
                        }

                        return new ThriftMap((byte)(types >> 4), (byte)(types & 0x0F), entries);
                    }

                case Struct:
                    return ReadStruct(depth + 1);
                default:
                    Fail($"unknown type id {type}");
                    return null;
            }
        }

        private int Length()
        {
            ulong length = ReadVarint();
            if (length > (ulong)(_bytes.Length - _at))
            {
                Fail($"length {length} runs past the end");
            }

            return (int)length;
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > _bytes.Length - _at)
            {
                Fail("value runs past the end");
            }

            ReadOnlySpan<byte> result = _bytes.Slice(_at, count);
            _at += count;
            return result;
        }

        private byte ReadByte() => Take(1)[0];

        private ulong ReadVarint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = ReadByte();
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }

            Fail("varint longer than 10 bytes");
            return 0;
        }

        private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

        [DoesNotReturn]
        private readonly void Fail(string what) => throw new InvalidDataException($"Parquet footer (Thrift compact) at byte {_at}: {what}");
    }

    private sealed class Writer
    {
        private readonly MemoryStream _out = new();

        public byte[] ToArray() => _out.ToArray();

        public void WriteStruct(ThriftStruct value)
        {
            short lastId = 0;
            foreach (ThriftField field in value._fields)
            {
                byte type = field.Type == BoolTrue ? ((bool)field.Value ? BoolTrue : BoolFalse) : field.Type;
                int delta = field.Id - lastId;
                if (delta is > 0 and <= 15)
                {
                    _out.WriteByte((byte)((delta << 4) | type));
                }
                else
                {
                    _out.WriteByte(type);
                    WriteVarint(ZigZag(field.Id));
                }

                lastId = field.Id;
                if (field.Type != BoolTrue)
                {
                    WriteValue(field.Type, field.Value);
                }
            }

            _out.WriteByte(0);
        }

        private void WriteValue(byte type, object value)
        {
            switch (type)
            {
                case BoolTrue:
                case BoolFalse:
                    _out.WriteByte((byte)value);
                    break;
                case Byte:
                    _out.WriteByte((byte)(sbyte)value);
                    break;
                case I16:
                    WriteVarint(ZigZag((short)value));
                    break;
                case I32:
                    WriteVarint(ZigZag((int)value));
                    break;
                case I64:
                    WriteVarint(ZigZag((long)value));
                    break;
                case Double:
                    Span<byte> d = stackalloc byte[8];
                    BinaryPrimitives.WriteDoubleLittleEndian(d, (double)value);
                    _out.Write(d);
                    break;
                case Binary:
                    var bytes = (byte[])value;
                    WriteVarint((ulong)bytes.Length);
                    _out.Write(bytes);
                    break;
                case List:
                case Set:
                    var list = (ThriftList)value;
                    if (list.Items.Count < 15)
                    {
                        _out.WriteByte((byte)((list.Items.Count << 4) | list.ElementType));
                    }
                    else
                    {
                        _out.WriteByte((byte)(0xF0 | list.ElementType));
                        WriteVarint((ulong)list.Items.Count);
                    }

                    foreach (object item in list.Items)
                    {
                        WriteValue(list.ElementType, item);
                    }

                    break;
                case Map:
                    var map = (ThriftMap)value;
                    WriteVarint((ulong)map.Entries.Count);
                    if (map.Entries.Count > 0)
                    {
                        _out.WriteByte((byte)((map.KeyType << 4) | map.ValueType));
                    }

                    foreach ((object key, object item) in map.Entries)
                    {
                        WriteValue(map.KeyType, key);
                        WriteValue(map.ValueType, item);
                    }

                    break;
                case Struct:
                    WriteStruct((ThriftStruct)value);
                    break;
                default:
                    throw new InvalidOperationException($"unknown Thrift type id {type}");
            }
        }

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _out.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _out.WriteByte((byte)value);
        }

        private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
    }
}
