namespace Bamflow.Dataflow;

/// <summary>
/// Whether two paths name the same file, however they are spelled: relative paths, <c>..</c>, symbolic and hard
/// links. Existing files compare by device and inode; a path that does not exist yet compares by its directory's
/// identity and its name. Devices and FIFOs never compare equal (writing to one twice harms nothing kept).
/// </summary>
public static class FileIdentity
{
    /// <summary>Whether <paramref name="first"/> and <paramref name="second"/> are, or would become, the same regular file.</summary>
    public static bool AreSame(string first, string second)
    {
        ArgumentException.ThrowIfNullOrEmpty(first);
        ArgumentException.ThrowIfNullOrEmpty(second);
        Key? a = Of(first);
        Key? b = Of(second);
        return a is not null && a == b;
    }

    private readonly record struct Key(ulong Device, ulong Inode, string? Name);

    private static Key? Of(string path)
    {
        string full = Path.GetFullPath(path);
        if (Posix.Stat(full) is { } status)
        {
            return status.Type == FileStatus.Regular ? new Key(status.Device, status.Inode, null) : null;
        }

        if (File.Exists(full) || Directory.Exists(full))
        {
            // No statx (not Linux): the final target's full path.
            return OutputTarget.IsRegularFile(full) && !Directory.Exists(full)
                ? new Key(0, 0, new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full)
                : null;
        }

        // Not there (yet): the directory it would be created in, and its name.
        string? directory = Path.GetDirectoryName(full);
        string name = Path.GetFileName(full);
        if (directory is not null && Posix.Stat(directory) is { } parent)
        {
            return new Key(parent.Device, parent.Inode, name);
        }

        string resolved = directory is null || !Directory.Exists(directory)
            ? full
            : Path.Combine(new DirectoryInfo(directory).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? directory, name);
        return new Key(0, 0, resolved);
    }
}
