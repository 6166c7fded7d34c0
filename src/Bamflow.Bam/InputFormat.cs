using System.Buffers.Binary;
using System.IO.Compression;
using Bamflow.Bgzf;

namespace Bamflow.Bam;

/// <summary>What an input is, as far as its first bytes tell.</summary>
public enum InputFormat
{
    /// <summary>Not recognised.</summary>
    Unknown,
    /// <summary>No bytes at all.</summary>
    Empty,
    /// <summary>A directory, not a file.</summary>
    Directory,
    /// <summary>BGZF-compressed data (BAM, or bgzip-compressed text such as SAM: the first block's content tells).</summary>
    Bgzf,
    /// <summary>Raw BAM data (<c>BAM\1</c> with no BGZF blocks around it; <c>samtools view -u</c> writes BGZF blocks of level 0 instead).</summary>
    UncompressedBam,
    /// <summary>A gzip file that is not BGZF (plain <c>gzip</c>).</summary>
    Gzip,
    /// <summary>CRAM (<c>CRAM</c> and a major version).</summary>
    Cram,
    /// <summary>SAM text (a header line <c>@XY&lt;TAB&gt;</c>, or a line of eleven or more tab-separated fields).</summary>
    Sam,
    /// <summary>Other text.</summary>
    Text,
}

/// <summary>
/// Tells an input's format from its first bytes (<see cref="HeadLength"/> of them are enough), so a reader can say
/// "x.cram is a CRAM file" instead of "expected gzip magic". The readers of other formats start from it.
/// </summary>
public static class InputFormatSniffer
{
    /// <summary>How many leading bytes <see cref="Detect"/> wants at most (a gzip member's head inflates from them).</summary>
    public const int HeadLength = 1 << 16;

    private const int FixedHeaderLength = 12; // RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS, then XLEN (BGZF always has FEXTRA)

    /// <summary>The format of an input that starts with <paramref name="head"/> (its whole content if shorter than <see cref="HeadLength"/>).</summary>
    public static InputFormat Detect(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty)
        {
            return InputFormat.Empty;
        }

        if (head.StartsWith("CRAM"u8))
        {
            return InputFormat.Cram; // CRAM 3.1 §6: "CRAM", major, minor, file id
        }

        if (head.StartsWith("BAM\u0001"u8))
        {
            return InputFormat.UncompressedBam;
        }

        if (head[0] == 0x1f && (head.Length == 1 || head[1] == 0x8b))
        {
            return IsBgzf(head) ? InputFormat.Bgzf : InputFormat.Gzip;
        }

        return IsSam(head) ? InputFormat.Sam : IsText(head) ? InputFormat.Text : InputFormat.Unknown;
    }

    /// <summary>What a gzip member's content starts as (its first <paramref name="head"/> bytes inflated), when that can be told.</summary>
    public static InputFormat DetectInsideGzip(ReadOnlySpan<byte> head)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(head.ToArray()), CompressionMode.Decompress);
            byte[] inflated = new byte[4096];
            int length = gzip.ReadAtLeast(inflated, inflated.Length, throwOnEndOfStream: false);
            return length == 0 ? InputFormat.Unknown : Detect(inflated.AsSpan(0, length));
        }
        catch (InvalidDataException)
        {
            return InputFormat.Unknown;
        }
    }

    /// <summary>
    /// A gzip member with FEXTRA and a BC subfield (SAMv1 §4.1), or the start of one cut short (the BGZF reader then
    /// names the truncation and where it is).
    /// </summary>
    private static bool IsBgzf(ReadOnlySpan<byte> head)
    {
        if ((head.Length > 2 && head[2] != 8) || (head.Length > 3 && (head[3] & 4) == 0))
        {
            return false;
        }

        if (head.Length < FixedHeaderLength)
        {
            return true;
        }

        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(head[10..]);
        if (head.Length < FixedHeaderLength + extraLength)
        {
            return true;
        }

        ReadOnlySpan<byte> extra = head.Slice(FixedHeaderLength, extraLength);
        while (extra.Length >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (extra[0] == (byte)'B' && extra[1] == (byte)'C')
            {
                return true;
            }

            extra = extra[Math.Min(extra.Length, 4 + length)..];
        }

        return false;
    }

    /// <summary>SAM text: a header line (<c>@HD</c>, <c>@SQ</c>, <c>@CO</c>, …) or an alignment line of 11+ fields with a numeric FLAG.</summary>
    private static bool IsSam(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 4 && head[0] == (byte)'@' && char.IsAsciiLetter((char)head[1]) && char.IsAsciiLetter((char)head[2]) && head[3] == (byte)'\t')
        {
            return true;
        }

        int end = head.IndexOf((byte)'\n');
        ReadOnlySpan<byte> line = end < 0 ? head : head[..end];
        if (!IsText(line) || line.Count((byte)'\t') < 10)
        {
            return false;
        }

        ReadOnlySpan<byte> afterName = line[(line.IndexOf((byte)'\t') + 1)..];
        ReadOnlySpan<byte> flag = afterName[..afterName.IndexOf((byte)'\t')];
        return !flag.IsEmpty && !flag.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    /// <summary>Printable ASCII or UTF-8, tabs and line ends only.</summary>
    private static bool IsText(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (b < 0x20 && b is not (byte)'\t' and not (byte)'\n' and not (byte)'\r')
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The input is not BAM but another format (named by <see cref="Format"/>), or not a file at all.</summary>
public sealed class UnsupportedInputException : BamFormatException
{
    private readonly string _what;

    private UnsupportedInputException(InputFormat format, string what, string? fileName)
        : base(what, fileName, compressedOffset: 0)
    {
        Format = format;
        _what = what;
    }

    /// <summary>"x.cram is a CRAM file: …": the name, then what it is and what to do.</summary>
    public override string Message => $"{FileName switch { null => "the input", "-" => "standard input", _ => FileName }} {_what}";

    /// <summary>What the input is.</summary>
    public InputFormat Format { get; }

    /// <summary>
    /// The error for an input detected as <paramref name="format"/>, with what to do; <paramref name="inside"/> is what a
    /// gzip or BGZF container holds, when known.
    /// </summary>
    public static UnsupportedInputException For(InputFormat format, string? fileName, InputFormat inside = InputFormat.Unknown)
    {
        string name = fileName ?? "IN";
        string bam = fileName is null or "-" ? "OUT.bam" : Path.ChangeExtension(Path.GetFileName(name), ".bam");
        string message = format switch
        {
            InputFormat.Empty => "is empty (0 bytes): not a BAM file",
            InputFormat.Directory => "is a directory, not a BAM file",
            InputFormat.Cram => $"is a CRAM file: bamflow reads BAM only for now; convert it first: samtools view -b -T REFERENCE.fa -o {bam} {name}",
            InputFormat.Sam => $"is SAM text: bamflow reads BAM only for now; convert it first: samtools view -b -o {bam} {name}",
            InputFormat.UncompressedBam => $"is BAM data without BGZF compression (raw BAM\\1, as gunzip leaves a BAM): bamflow reads BGZF-compressed BAM; compress it: samtools view -b -o {bam} {name}",
            InputFormat.Gzip when inside == InputFormat.Sam => $"is SAM text compressed with plain gzip: bamflow reads BAM only for now; convert it first: samtools view -b -o {bam} {name}",
            InputFormat.Gzip when inside == InputFormat.UncompressedBam => $"is BAM compressed with plain gzip, not BGZF: re-compress it: samtools view -b -o {bam} {name}",
            InputFormat.Gzip => "is gzip-compressed but not BGZF (plain gzip): BAM files are BGZF-compressed; for a BAM, re-compress it with 'gunzip -c | bgzip' or samtools",
            InputFormat.Bgzf when inside == InputFormat.Sam => $"is BGZF-compressed SAM text (as 'bgzip x.sam' writes): bamflow reads BAM only for now; convert it first: samtools view -b -o {bam} {name}",
            InputFormat.Bgzf => "is BGZF-compressed but does not hold BAM (no BAM\\1 magic): not a BAM file",
            InputFormat.Text => "is a text file, not BAM",
            _ => "is not a BAM file",
        };
        return new UnsupportedInputException(format, message, fileName);
    }
}
