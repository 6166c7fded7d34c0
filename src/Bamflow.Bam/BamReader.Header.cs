using System.Buffers.Binary;
using System.Globalization;
using Bamflow.Bgzf;

namespace Bamflow.Bam;

public sealed partial class BamReader
{
    // SAMv1 §4.2: magic "BAM\1", l_text, text, n_ref, then n_ref × (l_name, name, l_ref).
    private static ReadOnlySpan<byte> Magic => "BAM\u0001"u8;

    /// <summary>
    /// The largest header text (<c>l_text</c>) accepted: 512 MiB. The text is held whole in memory, as bytes and as a
    /// string, and goes whole into every output's schema metadata (a 300 MB header takes 2.7 GB to convert; from
    /// about 1 GB .NET cannot hold it as one string at all). Real headers, even of assemblies with millions of
    /// contigs, are far smaller.
    /// </summary>
    public const int MaxHeaderTextBytes = 512 << 20;

    // Reads grow in steps of at most this much, so a hostile length costs only the bytes that really follow.
    private const int HeaderReadStep = 1 << 20;

    private BamHeader ReadHeader()
    {
        Span<byte> four = stackalloc byte[4];
        VirtualPosition start = _bgzf.Position;
        int got = _bgzf.Read(four);
        if (got == 0)
        {
            throw HeaderError("magic", start, _bgzf.CompressedBytesRead == 0 ? "file is empty: not a BAM file" : "no data: not a BAM file");
        }

        if (got < 4 || !four.SequenceEqual(Magic))
        {
            if (start.CompressedOffset == 0 && InputFormatSniffer.Detect(four[..got]) is InputFormat.Sam)
            {
                throw UnsupportedInputException.For(InputFormat.Bgzf, _bgzf.FileName, InputFormat.Sam);
            }

            throw HeaderError("magic", start, $"not a BAM file: the data does not start with BAM\\1 (found {Convert.ToHexString(four[..got])})");
        }

        int textLength = ReadInt32("l_text");
        if (textLength < 0)
        {
            throw HeaderError("l_text", start, $"header text length l_text {textLength} is negative");
        }

        if (textLength > MaxHeaderTextBytes)
        {
            throw HeaderError("l_text", start, string.Create(CultureInfo.InvariantCulture,
                $"the header text is too large: {textLength:N0} bytes (l_text), more than the {MaxHeaderTextBytes:N0} bytes bamflow can hold (it keeps the header whole in memory and in the output's schema metadata)"));
        }

        byte[] text = ReadBytes(textLength, "text");
        int badLine = BamHeader.FindLineNotStartingWithAt(text);
        if (badLine > 0)
        {
            throw HeaderError("text", start, $"header text line {badLine} does not start with '@' (SAMv1 §1.3; samtools rejects it too: \"Malformed SAM header\")");
        }

        int referenceCount = ReadInt32("n_ref");
        if (referenceCount < 0)
        {
            throw HeaderError("n_ref", start, $"reference count n_ref {referenceCount} is negative");
        }

        var references = new List<BamReference>(Math.Min(referenceCount, 4096));
        for (int i = 0; i < referenceCount; i++)
        {
            int nameLength = ReadInt32("l_name");
            if (nameLength < 1)
            {
                throw HeaderError("l_name", _bgzf.Position, $"reference {i} has name length l_name {nameLength}; it must be at least 1 (the NUL)");
            }

            byte[] name = ReadBytes(nameLength, "name");
            int nul = Array.IndexOf(name, (byte)0);
            // A negative l_ref is kept as stored, as htslib keeps it (samtools view -H prints it as LN:-5).
            int length = ReadInt32("l_ref");
            references.Add(new BamReference(name.AsSpan(0, nul < 0 ? name.Length : nul), length));
        }

        return new BamHeader(text, references);
    }

    private int ReadInt32(string field)
    {
        Span<byte> four = stackalloc byte[4];
        VirtualPosition position = _bgzf.Position;
        int got = _bgzf.Read(four);
        if (got < 4)
        {
            throw HeaderError(field, position, $"file ends inside the header (field {field})");
        }

        return BinaryPrimitives.ReadInt32LittleEndian(four);
    }

    private byte[] ReadBytes(int length, string field)
    {
        VirtualPosition position = _bgzf.Position;
        byte[] buffer = new byte[Math.Min(length, HeaderReadStep)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length + Math.Max(buffer.Length, HeaderReadStep), length));
            }

            int got = _bgzf.Read(buffer.AsSpan(filled));
            if (got == 0)
            {
                throw HeaderError(field, position, $"file ends inside the header (field {field}: {length} bytes declared, {filled} present)");
            }

            filled += got;
        }

        return buffer;
    }

    private BamHeaderFormatException HeaderError(string field, VirtualPosition position, string message) =>
        new(field, message, FileName, position);
}
