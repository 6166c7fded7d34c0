using System.Text;

namespace Bamflow.Bam;

/// <summary>
/// The BAM header: the SAM header text exactly as stored, and the binary reference list (which is what
/// records' refID fields index, whether or not the text has matching @SQ lines).
/// </summary>
public sealed class BamHeader
{
    private static ReadOnlySpan<byte> SqPrefix => "@SQ\t"u8;

    /// <summary>Creates a header from its stored text bytes and reference list.</summary>
    public BamHeader(ReadOnlyMemory<byte> textUtf8, IReadOnlyList<BamReference> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        TextUtf8 = textUtf8;
        References = references;
        Text = Encoding.UTF8.GetString(textUtf8.Span);
    }

    /// <summary>The header text as stored (l_text bytes, including any NUL padding).</summary>
    public ReadOnlyMemory<byte> TextUtf8 { get; }

    /// <summary>The header text as stored, decoded as UTF-8 (NUL padding included, as stored).</summary>
    public string Text { get; }

    /// <summary>The binary reference list, in refID order.</summary>
    public IReadOnlyList<BamReference> References { get; }

    /// <summary>Whether the stored text has at least one @SQ line.</summary>
    public bool TextHasSequenceLines
    {
        get
        {
            ReadOnlySpan<byte> text = TextUtf8.Span;
            if (text.StartsWith(SqPrefix))
            {
                return true;
            }

            return text.IndexOf("\n@SQ\t"u8) >= 0;
        }
    }

    /// <summary>
    /// Throws when a reference name or the header text (as <see cref="ToSamText"/> gives it) is not valid UTF-8: what
    /// a writer of Utf8 columns and metadata strings cannot hold exactly. samtools accepts such bytes and prints them
    /// raw, so only writers call this.
    /// </summary>
    /// <param name="fileName">The input's name, for the message.</param>
    /// <exception cref="BamHeaderFormatException">Field <c>name</c> or <c>text</c>.</exception>
    public void ThrowIfNotUtf8(string? fileName)
    {
        for (int i = 0; i < References.Count; i++)
        {
            if (!System.Text.Unicode.Utf8.IsValid(References[i].NameUtf8.Span))
            {
                throw BamHeaderFormatException.NotUtf8("name", $"reference {i}'s name", fileName);
            }
        }

        if (!System.Text.Unicode.Utf8.IsValid(ToSamText()))
        {
            throw BamHeaderFormatException.NotUtf8("text", "the header text", fileName);
        }
    }

    /// <summary>
    /// The number (1-based) of the first line of <paramref name="text"/> before its first NUL that does not start with
    /// '@' (an empty line included), or 0 when there is none: what htslib's sam_hdr_sanitise refuses.
    /// </summary>
    public static int FindLineNotStartingWithAt(ReadOnlySpan<byte> text)
    {
        int nul = text.IndexOf((byte)0);
        ReadOnlySpan<byte> lines = nul < 0 ? text : text[..nul];
        int number = 0;
        while (!lines.IsEmpty)
        {
            number++;
            if (lines[0] != (byte)'@')
            {
                return number;
            }

            int newline = lines.IndexOf((byte)'\n');
            if (newline < 0)
            {
                break;
            }

            lines = lines[(newline + 1)..];
        }

        return 0;
    }

    /// <summary>
    /// The header as <c>samtools view -H --no-PG</c> prints it: the stored text, with a newline added when its last
    /// line (before any NUL) has none, as htslib's sam_hdr_sanitise adds it (in the place of the first NUL, if any);
    /// followed, when the text has no @SQ lines but the binary list has references, by one <c>@SQ SN LN</c> line per
    /// reference (as htslib does).
    /// </summary>
    public byte[] ToSamText()
    {
        var buffer = new TextBuffer(TextUtf8.Length + 64);
        ReadOnlySpan<byte> text = TextUtf8.Span;
        int nul = text.IndexOf((byte)0);
        int end = nul < 0 ? text.Length : nul;
        if (end > 0 && text[end - 1] != (byte)'\n')
        {
            buffer.Append(text[..end]);
            buffer.Append((byte)'\n');
            buffer.Append(text[Math.Min(end + 1, text.Length)..]);
        }
        else
        {
            buffer.Append(text);
        }

        if (References.Count > 0 && !TextHasSequenceLines)
        {
            foreach (BamReference reference in References)
            {
                buffer.Append("@SQ\tSN:"u8);
                buffer.Append(reference.NameUtf8.Span);
                buffer.Append("\tLN:"u8);
                buffer.Append(reference.Length);
                buffer.Append((byte)'\n');
            }
        }

        return buffer.WrittenSpan.ToArray();
    }
}
