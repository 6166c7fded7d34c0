namespace Bamflow.Tests.Support;

/// <summary>
/// Locates <c>../shared</c> beside the repository root (the team's corpus), or the folder
/// <see cref="OverrideVariable"/> names. Where it is absent the tests marked <see cref="CorpusFactAttribute"/> or
/// <see cref="CorpusTheoryAttribute"/> are not discovered and one test reports them as skipped; any other test that
/// needs it skips on its own (<see cref="Require"/>). With the CI environment variable set they all run and fail.
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

    /// <summary>Whether CI is set: then a missing corpus fails the tests that need it instead of skipping them.</summary>
    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>
    /// True where the corpus is absent and CI is not set: tests marked <see cref="CorpusFactAttribute"/> or
    /// <see cref="CorpusTheoryAttribute"/> are then not discovered, and one test reports them all as skipped.
    /// </summary>
    public static bool SkipsCorpusTests => Root is null && !InCi;

    /// <summary>The one-line reason a corpus test is skipped.</summary>
    public static string AbsentMessage =>
        $"no corpus: {Path.Combine(CandidateRoot, "data", "bam", "MANIFEST.tsv")} is absent (README: Tests and the corpus)";

    /// <summary>Returns the shared folder, or skips the test (fails it under CI) when it is absent.</summary>
    public static string Require()
    {
        if (Root is not null)
        {
            return Root;
        }

        if (InCi)
        {
            Assert.Fail(AbsentMessage + " and CI is set: the corpus tests must run in CI");
        }

        Assert.Skip(AbsentMessage);
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

    /// <summary>
    /// For a theory that also has rows of its own (fixtures): <paramref name="names"/> (corpus files) while the corpus
    /// is present or CI is set (which then fails them), none otherwise, so that only the own rows run.
    /// </summary>
    public static IEnumerable<string> WhenPresent(IEnumerable<string> names) => SkipsCorpusTests ? [] : names;

    /// <summary>The full path of a corpus file (skipping the test if the data is absent).</summary>
    public static string CorpusPath(string name) => Path.Combine(BamFolder, name);

    /// <summary>The environment variable that, when set, names the shared folder instead of <c>../shared</c> (an empty or missing folder: as if absent).</summary>
    public const string OverrideVariable = "BAMFLOW_SHARED_DATA";

    /// <summary>Where the shared folder is looked for: <see cref="OverrideVariable"/>, or <c>../shared</c> beside the repository.</summary>
    private static string CandidateRoot
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(OverrideVariable);
            return Path.GetFullPath(string.IsNullOrEmpty(configured) ? Path.Combine(RepositoryRoot, "..", "shared") : configured);
        }
    }

    private static string? FindRoot() =>
        File.Exists(Path.Combine(CandidateRoot, "data", "bam", "MANIFEST.tsv")) ? CandidateRoot : null;

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
