namespace Bamflow.Bgzf;

/// <summary>
/// Inflates raw DEFLATE data (the CDATA of one BGZF block) and computes CRC32. An instance is not thread-safe:
/// parallel stages use one per worker. Create them with <see cref="BgzfInflater.Create"/>.
/// </summary>
public interface IBgzfInflater : IDisposable
{
    /// <summary>The backend's name, for logs and benchmarks ("libdeflate", "System.IO.Compression").</summary>
    string Name { get; }

    /// <summary>
    /// Inflates <paramref name="deflated"/> into <paramref name="destination"/> and returns the number of bytes
    /// written, or -1 if the data is corrupt or does not fit.
    /// </summary>
    int Inflate(ReadOnlySpan<byte> deflated, Span<byte> destination);

    /// <summary>CRC32 (gzip polynomial) of <paramref name="data"/>.</summary>
    uint Crc32(ReadOnlySpan<byte> data);
}

/// <summary>The inflate backends.</summary>
public enum BgzfInflaterKind
{
    /// <summary>libdeflate when the system has it, otherwise System.IO.Compression.</summary>
    Auto,
    /// <summary>libdeflate, loaded at run time from the system's libdeflate.so.0.</summary>
    LibDeflate,
    /// <summary>System.IO.Compression (zlib in the .NET runtime): always available.</summary>
    Managed,
}

/// <summary>Creates inflaters.</summary>
public static class BgzfInflater
{
    /// <summary>Whether the libdeflate backend can be used on this machine.</summary>
    public static bool IsLibDeflateAvailable => LibDeflateInflater.IsAvailable;

    /// <summary>The backend <see cref="BgzfInflaterKind.Auto"/> resolves to here.</summary>
    public static BgzfInflaterKind Resolve(BgzfInflaterKind kind) =>
        kind == BgzfInflaterKind.Auto ? (LibDeflateInflater.IsAvailable ? BgzfInflaterKind.LibDeflate : BgzfInflaterKind.Managed) : kind;

    /// <summary>Creates an inflater of the given kind.</summary>
    /// <exception cref="PlatformNotSupportedException">libdeflate was asked for but is not installed.</exception>
    public static IBgzfInflater Create(BgzfInflaterKind kind = BgzfInflaterKind.Auto) => Resolve(kind) switch
    {
        BgzfInflaterKind.LibDeflate => new LibDeflateInflater(),
        _ => new ManagedInflater(),
    };
}
