namespace Bamflow.Benchmarks;

/// <summary>
/// The cheap running checksum every benchmark returns, so nothing is optimised away and check mode can compare
/// a method's result with its group's baseline. Text is summarised by length, first and last character, the
/// same for UTF-8 bytes and for an ASCII string.
/// </summary>
public static class Checksum
{
    /// <summary>Mixes <paramref name="value"/> into <paramref name="hash"/>.</summary>
    public static long Mix(long hash, long value) => unchecked((hash * 31) + value);

    /// <summary>Mixes a text summary (length, first and last byte) into <paramref name="hash"/>.</summary>
    public static long Mix(long hash, ReadOnlySpan<byte> text) =>
        text.IsEmpty ? Mix(hash, 0) : Mix(Mix(Mix(hash, text.Length), text[0]), text[^1]);

    /// <summary>Mixes a text summary of an ASCII string, equal to <see cref="Mix(long, ReadOnlySpan{byte})"/> on its bytes.</summary>
    public static long Mix(long hash, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0 ? Mix(hash, 0) : Mix(Mix(Mix(hash, text.Length), text[0]), text[^1]);
    }
}
