using System.IO.Compression;

namespace Bamflow.Bgzf;

/// <summary>
/// Inflates with System.IO.Compression (the zlib the .NET runtime ships): the fallback that works everywhere.
/// CRC32 comes from System.IO.Hashing (vectorised).
/// </summary>
public sealed unsafe class ManagedInflater : IBgzfInflater
{
    /// <inheritdoc />
    public string Name => "System.IO.Compression";

    /// <inheritdoc />
    public int Inflate(ReadOnlySpan<byte> deflated, Span<byte> destination)
    {
        if (deflated.IsEmpty)
        {
            return -1; // not even an empty DEFLATE block (which takes 2 bytes)
        }

        fixed (byte* input = deflated)
        {
            using var source = new UnmanagedMemoryStream(input, deflated.Length);
            using var inflater = new DeflateStream(source, CompressionMode.Decompress);
            try
            {
                int written = inflater.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
                if (written == destination.Length)
                {
                    // The destination is full: the data must end here, or it does not fit.
                    Span<byte> probe = stackalloc byte[1];
                    if (inflater.Read(probe) != 0)
                    {
                        return -1;
                    }
                }

                return written;
            }
            catch (InvalidDataException)
            {
                return -1;
            }
        }
    }

    /// <inheritdoc />
    public uint Crc32(ReadOnlySpan<byte> data) => System.IO.Hashing.Crc32.HashToUInt32(data);

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
