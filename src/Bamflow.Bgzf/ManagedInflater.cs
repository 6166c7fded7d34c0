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
            using var source = new InputStream(input, deflated.Length);
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

                // DeflateStream ends quietly when the input runs out before the final block (BFINAL): it then asks
                // for more input than there is. zlib (htslib) and libdeflate reject such data, and so must we.
                return source.ReadPastEnd ? -1 : written;
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

    /// <summary>The DEFLATE input; notes whether the inflater asked for bytes after the last one.</summary>
    private sealed class InputStream(byte* pointer, long length) : UnmanagedMemoryStream(pointer, length)
    {
        public bool ReadPastEnd { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Note(base.Read(buffer, offset, count), count);

        public override int Read(Span<byte> buffer) => Note(base.Read(buffer), buffer.Length);

        public override int ReadByte()
        {
            int value = base.ReadByte();
            ReadPastEnd |= value < 0;
            return value;
        }

        private int Note(int read, int requested)
        {
            ReadPastEnd |= read == 0 && requested > 0;
            return read;
        }
    }
}
