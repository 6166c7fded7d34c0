using System.Text;

namespace Bamflow.Benchmarks.Bam;

/// <summary>
/// The naive baselines' record: what a first attempt (and the system Bamflow replaced) builds for every record
/// — an object holding a new string for each text field and a dictionary of boxed tag values.
/// </summary>
public sealed class NaiveRecord
{
    /// <summary>QNAME.</summary>
    public string ReadName { get; set; } = "";

    /// <summary>FLAG.</summary>
    public int Flag { get; set; }

    /// <summary>refID (-1 for none).</summary>
    public int ReferenceId { get; set; }

    /// <summary>0-based POS (-1 for none).</summary>
    public int Position { get; set; }

    /// <summary>MAPQ.</summary>
    public int MappingQuality { get; set; }

    /// <summary>CIGAR as SAM text, "*" for none.</summary>
    public string Cigar { get; set; } = "*";

    /// <summary>next refID.</summary>
    public int MateReferenceId { get; set; }

    /// <summary>0-based PNEXT.</summary>
    public int MatePosition { get; set; }

    /// <summary>TLEN.</summary>
    public int TemplateLength { get; set; }

    /// <summary>SEQ, "*" for none.</summary>
    public string Sequence { get; set; } = "*";

    /// <summary>QUAL as Phred+33, "*" for none.</summary>
    public string Quality { get; set; } = "*";

    /// <summary>Tags by name: sbyte/byte/short/ushort/int/uint/float/char/string, or an array of those for B.</summary>
    public Dictionary<string, object> Tags { get; } = [];

    /// <summary>The same summary <see cref="RecordDecodeBenchmarks"/> computes from Bamflow's record view.</summary>
    public long Checksum(long hash)
    {
        hash = Benchmarks.Checksum.Mix(hash, Flag);
        hash = Benchmarks.Checksum.Mix(hash, ReferenceId);
        hash = Benchmarks.Checksum.Mix(hash, Position);
        hash = Benchmarks.Checksum.Mix(hash, MappingQuality);
        hash = Benchmarks.Checksum.Mix(hash, MateReferenceId);
        hash = Benchmarks.Checksum.Mix(hash, MatePosition);
        hash = Benchmarks.Checksum.Mix(hash, TemplateLength);
        hash = Benchmarks.Checksum.Mix(hash, ReadName);
        hash = Benchmarks.Checksum.Mix(hash, Cigar);
        hash = Benchmarks.Checksum.Mix(hash, Sequence);
        hash = Benchmarks.Checksum.Mix(hash, Quality);
        long tags = 0; // order-independent: a dictionary need not keep the stored order
        foreach (KeyValuePair<string, object> tag in Tags)
        {
            tags += Benchmarks.Checksum.Mix(Benchmarks.Checksum.Mix(Benchmarks.Checksum.Mix(0, tag.Key[0]), tag.Key[1]), ValueSummary(tag.Value));
        }

        return Benchmarks.Checksum.Mix(Benchmarks.Checksum.Mix(hash, Tags.Count), tags);
    }

    /// <summary>Renders the tags as SAM text (<c>NM:i:0\tMD:Z:150</c>) the way a first attempt would: string concatenation.</summary>
    public string TagsAsSamText()
    {
        var text = new StringBuilder();
        foreach (KeyValuePair<string, object> tag in Tags)
        {
            if (text.Length > 0)
            {
                text.Append('\t');
            }

            text.Append(tag.Key).Append(':').Append(tag.Value switch
            {
                char c => "A:" + c,
                float f => "f:" + f.ToString(System.Globalization.CultureInfo.InvariantCulture),
                string s => "Z:" + s,
                Array array => "B:" + string.Join(',', array.Cast<object>().Select(o => Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture))),
                _ => "i:" + Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture),
            });
        }

        return text.ToString();
    }

    private static long ValueSummary(object value) => value switch
    {
        char c => c,
        float f => BitConverter.SingleToInt32Bits(f),
        string s => Benchmarks.Checksum.Mix(0, s),
        float[] floats => Benchmarks.Checksum.Mix(floats.Length, floats.Sum(f => (long)BitConverter.SingleToInt32Bits(f))),
        Array array => Benchmarks.Checksum.Mix(array.Length, array.Cast<object>().Sum(Convert.ToInt64)),
        _ => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
    };
}
