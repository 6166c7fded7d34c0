namespace Bamflow;

/// <summary>
/// The input is not a well-formed BAM file. Carries where the problem is, as properties, so callers and
/// tests never have to parse the message.
/// </summary>
public class BamFormatException : FormatException
{
    /// <summary>Creates an exception with a message and the place it refers to.</summary>
    public BamFormatException(string message, string? fileName = null, long? compressedOffset = null, Exception? innerException = null)
        : base(Compose(message, fileName), innerException)
    {
        FileName = fileName;
        CompressedOffset = compressedOffset;
    }

    /// <summary>The file name (or "-" for standard input) the error was found in, when known.</summary>
    public string? FileName { get; }

    /// <summary>Offset in the file of the BGZF block the error was found in, when known.</summary>
    public long? CompressedOffset { get; }

    private static string Compose(string message, string? fileName) => fileName is null ? message : $"{fileName}: {message}";
}
