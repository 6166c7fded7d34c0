using System.Runtime.InteropServices;
using System.Text;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>
/// Standard output and error when the caller closed them (<c>&gt;&amp;-</c>, <c>2&gt;&amp;-</c>). A closed
/// descriptor is filled with /dev/null at start, so no file opened later (the output, the input) takes its number
/// and receives messages or data meant for the terminal; a descriptor that cannot be written (the runtime may
/// already have reused the closed number for one of its own) is never written to. So a closed stderr silences
/// messages, and a closed stdout only matters where stdout is the data target.
/// </summary>
internal static partial class StandardStreams
{
    private const int GetFlags = 3;  // F_GETFL
    private const int AccessMode = 3; // O_ACCMODE
    private const int ReadOnly = 0;  // O_RDONLY

    /// <summary>Whether standard output was closed (or not writable) when the process started.</summary>
    public static bool OutputClosed { get; private set; }

    /// <summary>Checks descriptors 0–2; call first thing.</summary>
    public static void Repair()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        for (int descriptor = 0; descriptor <= 2; descriptor++)
        {
            int flags = Fcntl(descriptor, GetFlags);
            bool closed = flags < 0;
            if (closed)
            {
                using var devNull = File.OpenHandle("/dev/null", FileMode.Open, descriptor == 0 ? FileAccess.Read : FileAccess.Write);
                Dup2((int)devNull.DangerousGetHandle(), descriptor);
            }

            if (descriptor > 0 && (closed || (flags & AccessMode) == ReadOnly))
            {
                if (descriptor == 1)
                {
                    OutputClosed = true;
                    Console.SetOut(TextWriter.Null);
                }
                else
                {
                    Console.SetError(TextWriter.Null);
                }
            }
        }
    }

    /// <summary>Fails (exit 1) when standard output is closed: a command whose result goes there has nowhere to put it.</summary>
    public static void RequireOutput()
    {
        if (OutputClosed)
        {
            throw new IOException("standard output is closed: nowhere to write the result");
        }
    }

    /// <summary>Writes a command's result to standard output; a closed pipe throws <see cref="BrokenPipeException"/>.</summary>
    public static async Task WriteOutputAsync(string text, CancellationToken cancellationToken)
    {
        RequireOutput();
        await using OutputTarget stdout = OutputTarget.Open("-");
        await stdout.Stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await stdout.CommitAsync(cancellationToken);
    }

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int Fcntl(int descriptor, int command);

    [LibraryImport("libc", EntryPoint = "dup2")]
    private static partial int Dup2(int from, int to);
}
