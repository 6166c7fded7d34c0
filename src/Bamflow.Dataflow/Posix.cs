using System.Runtime.InteropServices;

namespace Bamflow.Dataflow;

/// <summary>The few libc calls the output handling needs (Linux; each caller has a fallback elsewhere).</summary>
internal static unsafe partial class Posix
{
    public const int Epipe = 32;      // EPIPE on Linux and macOS
    private const int Eintr = 4;      // EINTR
    private const int Esrch = 3;      // ESRCH
    private const int AtFdCwd = -100; // AT_FDCWD
    private const uint StatxBasic = 0x7ff; // STATX_BASIC_STATS

    /// <summary>What statx(2) says of a path (following symbolic links), or null when it cannot say.</summary>
    public static FileStatus? Stat(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct statx is the same on every Linux architecture: stx_mode u16 at 28, stx_ino u64 at 32,
        // stx_dev_major u32 at 136, stx_dev_minor u32 at 140.
        byte* buffer = stackalloc byte[256];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxBasic, buffer) != 0)
            {
                return null;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }

        ulong device = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
        return new FileStatus(*(ushort*)(buffer + 28), device, *(ulong*)(buffer + 32));
    }

    /// <summary>Writes all of <paramref name="bytes"/> to a file descriptor; a closed pipe throws <see cref="BrokenPipeException"/>.</summary>
    public static void WriteAll(int descriptor, ReadOnlySpan<byte> bytes, string name)
    {
        fixed (byte* start = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                nint written = Write(descriptor, start + done, (nuint)(bytes.Length - done));
                if (written >= 0)
                {
                    done += (int)written;
                    continue;
                }

                int error = Marshal.GetLastPInvokeError();
                if (error == Eintr)
                {
                    continue;
                }

                throw error == Epipe
                    ? new BrokenPipeException(name)
                    : new IOException($"cannot write to {name}: {Marshal.GetPInvokeErrorMessage(error)}", error);
            }
        }
    }

    /// <summary>Whether a process with this id may still exist (kill(pid, 0); true when it cannot tell).</summary>
    public static bool ProcessExists(int processId)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return true;
        }

        return Kill(processId, 0) == 0 || Marshal.GetLastPInvokeError() != Esrch;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int descriptor, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int processId, int signal);
}

/// <summary>A file's type and identity (device and inode), as stat(2) gives them.</summary>
internal readonly record struct FileStatus(int Mode, ulong Device, ulong Inode)
{
    public const int Regular = 0x8000; // S_IFREG

    /// <summary>S_IFMT bits.</summary>
    public int Type => Mode & 0xF000;
}

/// <summary>A write to a pipe (or FIFO) whose reader has gone: the output is cut; exit quietly, as under SIGPIPE.</summary>
public sealed class BrokenPipeException : IOException
{
    /// <summary>A broken pipe on <paramref name="output"/>.</summary>
    public BrokenPipeException(string output)
        : base($"broken pipe: the reader of {output} has gone", Posix.Epipe)
    {
    }

    /// <summary>A broken pipe on <paramref name="output"/>, seen as <paramref name="inner"/>.</summary>
    public BrokenPipeException(string output, Exception inner)
        : base($"broken pipe: the reader of {output} has gone", inner)
    {
        HResult = Posix.Epipe;
    }

    /// <summary>Whether <paramref name="exception"/> or one inside it is a write to a closed pipe.</summary>
    public static bool IsIn(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is BrokenPipeException || (exception is IOException && exception.HResult == Posix.Epipe))
            {
                return true;
            }

            if (exception is AggregateException aggregate && aggregate.InnerExceptions.Any(IsIn))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// An unbuffered write-only stream over a file descriptor the process does not own (standard output), which
/// reports a closed pipe as <see cref="BrokenPipeException"/> where the console stream ignores it.
/// </summary>
internal sealed class DescriptorStream(int descriptor, string name) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => Posix.WriteAll(descriptor, buffer, name);
}

/// <summary>
/// A write-only stream that counts its own position, so that Arrow's IPC file writer (which asks for a seekable
/// stream but only reads <see cref="Position"/>) can write into a pipe, FIFO or device. It never seeks.
/// </summary>
internal sealed class PositionTrackingStream(Stream inner) : Stream
{
    private long _position;

    public override bool CanRead => false;

    public override bool CanSeek => true; // Position only: Seek and SetLength throw

    public override bool CanWrite => true;

    public override long Length => _position;

    public override long Position { get => _position; set => throw new NotSupportedException("the output cannot seek"); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("the output cannot seek");

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        _position += buffer.Length;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        _position += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
