using System.Runtime.InteropServices;
using System.Text;
using Bamflow.Arrow;

namespace Bamflow.Cli;

/// <summary>
/// Under a virtual memory limit (<c>ulimit -v</c>, as Slurm and SGE set it), restarts the process once, before any
/// work, with the native allocators configured for it; the settings only take effect when set at process start.
/// Without them, a 2-core run had a few tens of MiB of a 2 GiB limit left when it started converting: glibc had
/// reserved 64 MiB for each of 6–9 malloc arenas and the runtime sized its heap reservation from what was left, and
/// Arrow C++'s jemalloc pool, which reserves extents of up to a GiB and aborts the process when it cannot start its
/// background threads, took the rest.
/// </summary>
internal static unsafe partial class AddressSpaceSetup
{
    /// <summary>Set for the restarted process unless the user set them: two malloc arenas; Arrow C++'s system allocator.</summary>
    private static readonly (string Name, string Value)[] s_settings =
    [
        ("MALLOC_ARENA_MAX", "2"),
        ("ARROW_DEFAULT_MEMORY_POOL", "system"),
    ];

    /// <summary>
    /// Under a limit, and unless already done (<c>MALLOC_ARENA_MAX</c> is set): replaces this process by itself
    /// (same process id, arguments and standard streams) with the settings in its environment. Returns when there
    /// is nothing to do or the restart fails (the run goes on as it is).
    /// </summary>
    public static void RestartIfLimited()
    {
        if (AddressSpace.Limit is null || Environment.GetEnvironmentVariable(s_settings[0].Name) is not null)
        {
            return;
        }

        byte[] commandLine;
        try
        {
            commandLine = File.ReadAllBytes("/proc/self/cmdline");
        }
        catch (IOException)
        {
            return;
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }

        List<string> arguments = [.. Encoding.UTF8.GetString(commandLine).TrimEnd('\0').Split('\0')];
        List<string> environment = [];
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environment.Add($"{entry.Key}={entry.Value}");
        }

        foreach ((string name, string value) in s_settings)
        {
            if (Environment.GetEnvironmentVariable(name) is null)
            {
                environment.Add($"{name}={value}");
            }
        }

        nint* argv = ToNative(arguments);
        nint* envp = ToNative(environment);
        _ = Execve("/proc/self/exe", argv, envp); // returns only on failure
        Free(argv);
        Free(envp);
    }

    /// <summary>A NULL-terminated array of NUL-terminated UTF-8 strings, as execve takes them.</summary>
    private static nint* ToNative(List<string> strings)
    {
        var array = (nint*)NativeMemory.Alloc((nuint)(strings.Count + 1), (nuint)sizeof(nint));
        for (int i = 0; i < strings.Count; i++)
        {
            array[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
        }

        array[strings.Count] = 0;
        return array;
    }

    private static void Free(nint* array)
    {
        for (nint* item = array; *item != 0; item++)
        {
            Marshal.FreeCoTaskMem(*item);
        }

        NativeMemory.Free(array);
    }

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Execve(string path, nint* argv, nint* envp);
}
