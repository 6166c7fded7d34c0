using System.Runtime.InteropServices;

namespace Bamflow.Bgzf;

/// <summary>
/// Inflates with libdeflate (the library htslib uses), loaded at run time from the system's
/// <c>libdeflate.so.0</c>; nothing is bundled. In perf/RESULTS.md's micro-benchmark it inflates a BGZF block in
/// 60 μs against 94 μs for the managed inflater (System.IO.Compression's zlib): 1.56× as fast.
/// </summary>
public sealed unsafe class LibDeflateInflater : IBgzfInflater
{
    private const int ResultSuccess = 0; // enum libdeflate_result: LIBDEFLATE_SUCCESS

    private static readonly Api? s_api = Api.TryLoad();

    private nint _decompressor;

    /// <summary>Allocates a libdeflate decompressor.</summary>
    /// <exception cref="PlatformNotSupportedException">libdeflate is not installed.</exception>
    public LibDeflateInflater()
    {
        if (s_api is null)
        {
            throw new PlatformNotSupportedException("libdeflate (libdeflate.so.0) is not installed; install it (Debian: apt-get install libdeflate0) or use the managed inflater");
        }

        _decompressor = s_api.AllocDecompressor();
        if (_decompressor == 0)
        {
            throw new OutOfMemoryException("libdeflate_alloc_decompressor failed");
        }
    }

    /// <summary>Whether libdeflate could be loaded.</summary>
    public static bool IsAvailable => s_api is not null;

    /// <inheritdoc />
    public string Name => "libdeflate";

    /// <inheritdoc />
    public int Inflate(ReadOnlySpan<byte> deflated, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_decompressor == 0, this);
        nuint written;
        int result;
        fixed (byte* input = deflated)
        fixed (byte* output = destination)
        {
            result = s_api!.DeflateDecompress(_decompressor, input, (nuint)deflated.Length, output, (nuint)destination.Length, &written);
        }

        return result == ResultSuccess ? (int)written : -1;
    }

    /// <inheritdoc />
    public uint Crc32(ReadOnlySpan<byte> data)
    {
        fixed (byte* input = data)
        {
            return s_api!.Crc32(0, input, (nuint)data.Length);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_decompressor != 0)
        {
            s_api!.FreeDecompressor(_decompressor);
            _decompressor = 0;
        }
    }

    /// <summary>The four libdeflate entry points used, resolved once.</summary>
    private sealed class Api(nint alloc, nint free, nint decompress, nint crc)
    {
        public readonly delegate* unmanaged<nint> AllocDecompressor = (delegate* unmanaged<nint>)alloc;
        public readonly delegate* unmanaged<nint, void> FreeDecompressor = (delegate* unmanaged<nint, void>)free;
        public readonly delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int> DeflateDecompress =
            (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int>)decompress;
        public readonly delegate* unmanaged<uint, byte*, nuint, uint> Crc32 = (delegate* unmanaged<uint, byte*, nuint, uint>)crc;

        public static Api? TryLoad()
        {
            // BAMFLOW_NO_LIBDEFLATE=1 hides libdeflate, to exercise the fallback as a machine without it would.
            if (Environment.GetEnvironmentVariable("BAMFLOW_NO_LIBDEFLATE") == "1")
            {
                return null;
            }

            foreach (string name in (ReadOnlySpan<string>)["libdeflate.so.0", "libdeflate.so", "libdeflate.0.dylib", "libdeflate.dll"])
            {
                if (!NativeLibrary.TryLoad(name, out nint handle))
                {
                    continue;
                }

                if (NativeLibrary.TryGetExport(handle, "libdeflate_alloc_decompressor", out nint alloc)
                    && NativeLibrary.TryGetExport(handle, "libdeflate_free_decompressor", out nint free)
                    && NativeLibrary.TryGetExport(handle, "libdeflate_deflate_decompress", out nint decompress)
                    && NativeLibrary.TryGetExport(handle, "libdeflate_crc32", out nint crc))
                {
                    return new Api(alloc, free, decompress, crc);
                }

                NativeLibrary.Free(handle);
            }

            return null;
        }
    }
}
