using System.Globalization;
using System.Runtime.InteropServices;

namespace Bamflow.Arrow;

/// <summary>
/// The process's virtual memory limit (<c>RLIMIT_AS</c>, what <c>ulimit -v</c> and Slurm/SGE set) and how much of
/// it is left. Under such a limit every reservation counts, not only the memory touched: the .NET GC reserves about
/// half the limit for its heap at start, glibc reserves 64 MiB per malloc arena (one per thread that allocates, up
/// to 8 per core), jemalloc reserves large extents and starts background threads, and every thread reserves its
/// stack. Linux only; elsewhere there is no limit to respect.
/// </summary>
public static partial class AddressSpace
{
    private const int RlimitAs = 9;     // Linux <sys/resource.h>: RLIMIT_AS

    /// <summary>The limit in bytes, or null when there is none (unlimited, or not Linux).</summary>
    public static long? Limit { get; } = ReadLimit();

    /// <summary>Bytes of address space the process has reserved now (<c>VmSize</c>), or null where unknown.</summary>
    public static long? Used()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmSize:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(7).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>Bytes of the limit not yet reserved, or null when there is no limit.</summary>
    public static long? Available() => Limit is { } limit && Used() is { } used ? Math.Max(0, limit - used) : null;

    /// <summary><paramref name="bytes"/> as MiB for messages ("1,024 MiB").</summary>
    public static string Mebibytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20:N0} MiB");

    private static long? ReadLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            Span<ulong> limit = stackalloc ulong[2]; // struct rlimit { rlim_t rlim_cur, rlim_max; }
            if (GetRLimit(RlimitAs, ref MemoryMarshal.GetReference(limit)) != 0 || limit[0] >= long.MaxValue)
            {
                return null; // RLIM_INFINITY = ~0UL
            }

            return (long)limit[0];
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
        catch (DllNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, ref ulong limit);

}
