namespace Bamflow.Tests.Support;

/// <summary>A temporary folder, deleted with everything in it on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Creates a folder under the system's temporary folder.</summary>
    public TempFolder(string prefix = "bamflow-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still open by a process that outlived the test.
        }
    }
}
