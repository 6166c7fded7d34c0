namespace Bamflow.Bam;

/// <summary>Renders records and aux fields as SAM text, byte for byte as <c>samtools view</c> (htslib 1.16) prints them.</summary>
public static class SamFormatter
{
    /// <summary>Appends <paramref name="record"/> as one SAM line, without the trailing newline.</summary>
    public static void AppendRecord(BamRecord record, BamHeader header, TextBuffer output)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(output);
        IReadOnlyList<BamReference> references = header.References;

        output.Append(record.ReadName);
        output.Append((byte)'\t');
        output.Append((long)record.Flag);
        output.Append((byte)'\t');
        int refId = record.ReferenceId;
        AppendReferenceName(refId, references, output);
        output.Append((byte)'\t');
        output.Append(record.Position + 1L);
        output.Append((byte)'\t');
        output.Append((long)record.MappingQuality);
        output.Append((byte)'\t');
        if (record.CigarCount == 0)
        {
            output.Append((byte)'*');
        }
        else
        {
            CigarDecoder.Append(record.Cigar, output);
        }

        output.Append((byte)'\t');
        int mateRefId = record.MateReferenceId;
        if (mateRefId >= 0 && mateRefId == refId)
        {
            output.Append((byte)'=');
        }
        else
        {
            AppendReferenceName(mateRefId, references, output);
        }

        output.Append((byte)'\t');
        output.Append(record.MatePosition + 1L);
        output.Append((byte)'\t');
        output.Append((long)record.TemplateLength);
        output.Append((byte)'\t');
        int length = record.SequenceLength;
        if (length == 0)
        {
            output.Append((byte)'*');
        }
        else
        {
            SequenceDecoder.Append(record.PackedSequence, length, output);
        }

        output.Append((byte)'\t');
        if (record.HasQuality)
        {
            QualityDecoder.Append(record.Quality, output);
        }
        else
        {
            output.Append((byte)'*');
        }

        foreach (AuxField field in record.AuxFields)
        {
            output.Append((byte)'\t');
            AppendAux(field, output);
        }
    }

    /// <summary>Appends one aux field as SAM text: <c>TAG:TYPE:VALUE</c>, every integer width as <c>i</c>.</summary>
    public static void AppendAux(AuxField field, TextBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Append(field.Tag);
        output.Append((byte)':');
        AppendAuxValue(field, output);
    }

    /// <summary>Appends an aux field's <c>TYPE:VALUE</c> (no tag), as in the <c>tags_other</c> and <c>mixed</c> columns.</summary>
    public static void AppendAuxValue(AuxField field, TextBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        switch (field.Type)
        {
            case (byte)'A':
                output.Append("A:"u8);
                output.Append(field.Value[0]);
                break;
            case (byte)'f':
                output.Append("f:"u8);
                SamFloatFormatter.Append(field.GetSingle(), output);
                break;
            case (byte)'Z':
                output.Append("Z:"u8);
                output.Append(field.Value);
                break;
            case (byte)'H':
                output.Append("H:"u8);
                output.Append(field.Value);
                break;
            case (byte)'B':
                output.Append("B:"u8);
                output.Append(field.ArraySubtype);
                bool isFloat = field.ArraySubtype == (byte)'f';
                for (int i = 0; i < field.ArrayCount; i++)
                {
                    output.Append((byte)',');
                    if (isFloat)
                    {
                        SamFloatFormatter.Append(field.GetArraySingle(i), output);
                    }
                    else
                    {
                        output.Append(field.GetArrayInt64(i));
                    }
                }

                break;
            default:
                output.Append("i:"u8);
                output.Append(field.GetInt64());
                break;
        }
    }

    private static void AppendReferenceName(int refId, IReadOnlyList<BamReference> references, TextBuffer output)
    {
        if (refId < 0)
        {
            output.Append((byte)'*');
        }
        else
        {
            output.Append(references[refId].NameUtf8.Span);
        }
    }
}
