using System.Text;

namespace Bamflow.Bam;

/// <summary>One entry of the BAM header's binary reference list (SAMv1 §4.2: name and l_ref).</summary>
public sealed class BamReference
{
    /// <summary>Creates a reference from its UTF-8 name bytes (without the NUL) and length.</summary>
    public BamReference(ReadOnlySpan<byte> nameUtf8, long length)
    {
        NameUtf8 = nameUtf8.ToArray();
        Name = Encoding.UTF8.GetString(nameUtf8);
        Length = length;
    }

    /// <summary>The reference sequence name.</summary>
    public string Name { get; }

    /// <summary>The name as stored (UTF-8, no NUL), for writing without conversion.</summary>
    public ReadOnlyMemory<byte> NameUtf8 { get; }

    /// <summary>The reference length (l_ref).</summary>
    public long Length { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Length} bp)";
}
