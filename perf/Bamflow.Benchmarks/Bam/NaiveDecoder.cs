using System.Text;

namespace Bamflow.Benchmarks.Bam;

/// <summary>
/// The naive record decoder: a <see cref="BinaryReader"/> over the inflated bytes, field by field, with a new
/// <see cref="NaiveRecord"/>, new strings and a new tag dictionary for every record.
/// </summary>
public static class NaiveDecoder
{
    private const string Bases = "=ACMGRSVTWYHKDBN";
    private const string CigarOps = "MIDNSHP=X";

    /// <summary>Reads the next record (block_size first); null at the end of the stream.</summary>
    public static NaiveRecord? Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.BaseStream.Position >= reader.BaseStream.Length)
        {
            return null;
        }

        int blockSize = reader.ReadInt32();
        long end = reader.BaseStream.Position + blockSize;
        var record = new NaiveRecord { ReferenceId = reader.ReadInt32(), Position = reader.ReadInt32() };
        int nameLength = reader.ReadByte();
        record.MappingQuality = reader.ReadByte();
        reader.ReadUInt16(); // bin
        int cigarCount = reader.ReadUInt16();
        record.Flag = reader.ReadUInt16();
        int sequenceLength = reader.ReadInt32();
        record.MateReferenceId = reader.ReadInt32();
        record.MatePosition = reader.ReadInt32();
        record.TemplateLength = reader.ReadInt32();
        record.ReadName = Encoding.ASCII.GetString(reader.ReadBytes(nameLength)).TrimEnd('\0');

        var cigar = new StringBuilder();
        for (int i = 0; i < cigarCount; i++)
        {
            uint op = reader.ReadUInt32();
            cigar.Append(op >> 4).Append(CigarOps[(int)(op & 0xF)]);
        }

        record.Cigar = cigarCount == 0 ? "*" : cigar.ToString();

        byte[] packed = reader.ReadBytes((sequenceLength + 1) / 2);
        var sequence = new StringBuilder(sequenceLength);
        for (int i = 0; i < sequenceLength; i++)
        {
            sequence.Append(Bases[(i & 1) == 0 ? packed[i / 2] >> 4 : packed[i / 2] & 0xF]);
        }

        record.Sequence = sequenceLength == 0 ? "*" : sequence.ToString();

        byte[] quality = reader.ReadBytes(sequenceLength);
        record.Quality = sequenceLength == 0 || quality[0] == 0xFF ? "*" : new string(quality.Select(q => (char)(q + 33)).ToArray());

        while (reader.BaseStream.Position < end)
        {
            string tag = new(reader.ReadChars(2));
            char type = (char)reader.ReadByte();
            record.Tags[tag] = type switch
            {
                'B' => ReadArray(reader),
                'Z' or 'H' => ReadString(reader),
                _ => ReadScalar(reader, type),
            };
        }

        return record;
    }

    // Each arm boxed on its own: a switch expression would otherwise give every arm the best common type (float).
    private static object ReadScalar(BinaryReader reader, char type) => type switch
    {
        'A' => (object)(char)reader.ReadByte(),
        'c' => (object)reader.ReadSByte(),
        'C' => (object)reader.ReadByte(),
        's' => (object)reader.ReadInt16(),
        'S' => (object)reader.ReadUInt16(),
        'i' => (object)reader.ReadInt32(),
        'I' => (object)reader.ReadUInt32(),
        'f' => (object)reader.ReadSingle(),
        _ => throw new InvalidDataException($"unknown aux type '{type}'"),
    };

    private static string ReadString(BinaryReader reader)
    {
        var text = new StringBuilder();
        for (byte b = reader.ReadByte(); b != 0; b = reader.ReadByte())
        {
            text.Append((char)b);
        }

        return text.ToString();
    }

    private static Array ReadArray(BinaryReader reader)
    {
        char subtype = (char)reader.ReadByte();
        int count = reader.ReadInt32();
        Array array = subtype switch
        {
            'c' => new sbyte[count],
            'C' => new byte[count],
            's' => new short[count],
            'S' => new ushort[count],
            'i' => new int[count],
            'I' => new uint[count],
            'f' => new float[count],
            _ => throw new InvalidDataException($"unknown B array subtype '{subtype}'"),
        };
        for (int i = 0; i < count; i++)
        {
            array.SetValue(ReadScalar(reader, subtype), i);
        }

        return array;
    }
}
