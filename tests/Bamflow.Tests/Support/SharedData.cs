namespace Bamflow.Tests.Support;

/// <summary>
/// Locates <c>../shared</c> beside the repository root (the team's corpus). Tests that need it skip where it is
/// absent, and fail instead when the CI environment variable is set.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> s_root = new(FindRoot);

    /// <summary>The repository root (the folder holding pipeline.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The shared folder, or null when it is absent.</summary>
    public static string? Root => s_root.Value;

    /// <summary>The folder of real BAM files.</summary>
    public static string BamFolder => Path.Combine(Require(), "data", "bam");

    /// <summary>Returns the shared folder, or skips the test (fails it under CI) when it is absent.</summary>
    public static string Require()
    {
        if (Root is not null)
        {
            return Root;
        }

        string message = $"../shared (the team's data) is not beside the repository at {RepositoryRoot}";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            Assert.Fail(message + " and CI is set: the corpus tests must run in CI");
        }

        Assert.Skip(message);
        return null!;
    }

    /// <summary>The BAM files of the corpus (relative to data/bam), from MANIFEST.tsv: good ones, or the broken ones under bad/.</summary>
    public static IEnumerable<string> CorpusFiles(bool bad)
    {
        if (Root is null)
        {
            // One placeholder row, so the theory runs and reports the skip (or the CI failure).
            return ["(shared data absent)"];
        }

        string manifest = Path.Combine(Root, "data", "bam", "MANIFEST.tsv");
        return File.ReadLines(manifest)
            .Skip(1)
            .Select(line => line.Split('\t')[1])
            .Where(name => name.EndsWith(".bam", StringComparison.Ordinal) && name.StartsWith("bad/", StringComparison.Ordinal) == bad)
            .ToList();
    }

    /// <summary>The full path of a corpus file (skipping the test if the data is absent).</summary>
    public static string CorpusPath(string name) => Path.Combine(BamFolder, name);

    private static string? FindRoot()
    {
        string candidate = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));
        return File.Exists(Path.Combine(candidate, "data", "bam", "MANIFEST.tsv")) ? candidate : null;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find pipeline.sln above " + AppContext.BaseDirectory);
    }
}
