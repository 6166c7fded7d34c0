using System.Globalization;
using System.Text;
using Bamflow.Tests.Support;
using DuckDB.NET.Data;

namespace Bamflow.Tests.Workflow;

/// <summary>
/// The Snakemake workflow of the repository (<c>src/workflow/Snakefile</c>) run for real, <c>snakemake --cores 2</c>,
/// with the bamflow built with the tests: three corpus BAMs of different kinds and a slice of the benchmark BAM, four
/// shards each. DuckDB reads the dataset as README's "Scaling out" shows (Hive partitions, union by name) and counts,
/// per sample, the records and every counter of samtools flagstat from the flag, mapq, rname and rnext columns;
/// samtools is the oracle for each, for the merged stats files byte for byte, and for every record of every shard.
/// The retry test (with <c>plan_files: false</c>: each job plans its own shard, <c>--shard K/N</c>) kills one shard's
/// first attempt with SIGKILL and checks that Snakemake ran it again and that no partial or temporary file is left.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SnakemakeWorkflowTests : IDisposable
{
    private const int Shards = 4;

    private readonly TempFolder _folder = new("bamflow-workflow-");

    /// <summary>flagstat's counters (its <c>-O tsv</c> labels, percentages aside) as predicates over the dataset's columns.</summary>
    private static readonly (string Label, string Where)[] s_flagstatCounters =
    [
        // 0x100 secondary | 0x800 supplementary = 2304: a record with neither is primary. 0x1 paired, 0x2 proper pair,
        // 0x4 unmapped, 0x8 mate unmapped, 0x40 read1, 0x80 read2, 0x400 duplicate (0x200 QC fail splits the columns).
        ("total (QC-passed reads + QC-failed reads)", "true"),
        ("primary", "flag & 2304 = 0"),
        ("secondary", "flag & 256 <> 0"),
        ("supplementary", "flag & 256 = 0 AND flag & 2048 <> 0"),
        ("duplicates", "flag & 1024 <> 0"),
        ("primary duplicates", "flag & 2304 = 0 AND flag & 1024 <> 0"),
        ("mapped", "flag & 4 = 0"),
        ("primary mapped", "flag & 2304 = 0 AND flag & 4 = 0"),
        ("paired in sequencing", "flag & 2304 = 0 AND flag & 1 <> 0"),
        ("read1", "flag & 2304 = 0 AND flag & 1 <> 0 AND flag & 64 <> 0"),
        ("read2", "flag & 2304 = 0 AND flag & 1 <> 0 AND flag & 128 <> 0"),
        ("properly paired", "flag & 2304 = 0 AND flag & 1 <> 0 AND flag & 6 = 2"),
        ("with itself and mate mapped", "flag & 2304 = 0 AND flag & 1 <> 0 AND flag & 12 = 0"),
        ("singletons", "flag & 2304 = 0 AND flag & 1 <> 0 AND flag & 12 = 8"),
        // samtools compares reference ids (mtid != tid); names are unique in a header, and null is id -1.
        ("with mate mapped to a different chr", "flag & 2304 = 0 AND flag & 1 <> 0 AND flag & 12 = 0 AND rnext IS DISTINCT FROM rname"),
        // mapq is null for 255 (unavailable), which samtools counts as >= 5.
        ("with mate mapped to a different chr (mapQ>=5)", "flag & 2304 = 0 AND flag & 1 <> 0 AND flag & 12 = 0 AND rnext IS DISTINCT FROM rname AND coalesce(mapq, 255) >= 5"),
    ];

    public void Dispose() => _folder.Dispose();

    [CorpusFact]
    public void Snakemake_ThreeCorpusBamsAndABenchSlice_DatasetGivesEachSamplesRecordsAndFlagstatAsSamtools()
    {
        RequireTools();
        var samples = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["mpileup"] = SharedData.CorpusPath("samtools__mpileup.1.bam"), // coordinate-sorted, with a BAI; mates on other references
            ["ubam"] = SharedData.CorpusPath("picard__test.bam"), // unaligned (no @SQ), queryname order
            ["cellranger"] = SharedData.CorpusPath("10x-bamtofastq__cr12.bam"), // many tags, STAR's NM and nM
            ["bench"] = MakeBenchSlice(),
        };
        string bamflow = WriteScript("bamflow", $"exec {Bamflow} \"$@\"\n");

        BamflowCli.Result run = RunWorkflow(samples, bamflow, convertOptions: "", planFiles: true);

        Assert.Equal(samples.Keys.Select(s => s + ".json").Order(StringComparer.Ordinal), Directory.GetFiles(Path.Combine(Work, "plans")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        AssertDataset(samples);
        AssertMergedStats(samples);
        AssertListing(samples);
        Assert.DoesNotContain("Trying to restart job", run.StdoutText + run.Stderr, StringComparison.Ordinal);
    }

    [CorpusFact]
    public void Snakemake_ShardKilledMidRunOnItsFirstAttempt_RetriedAndNoPartialOrTemporaryFileLeft()
    {
        RequireTools();
        var samples = new Dictionary<string, string>(StringComparer.Ordinal) { ["bench"] = MakeBenchSlice() };
        string calls = Path.Combine(_folder.Path, "calls.log");
        string killed = Path.Combine(_folder.Path, "killed");

        // The first conversion of shard 2 is killed with SIGKILL (as the OOM killer or a lost node ends a job: no
        // clean-up runs) once its temporary output holds data. The output is written through a 1 MiB buffer, so small
        // uncompressed row groups (a shard's file is then about 5.4 MiB, not 1 MiB) make the file grow while it runs
        // instead of only at its end, and the wrapper sees it.
        string bamflow = WriteScript("bamflow", $$"""
            echo "$*" >> {{ShellQuote(calls)}}
            if [[ $1 == convert && " $* " == *" --shard 2/4 "* && ! -e {{ShellQuote(killed)}} ]]; then
              args=("$@"); out=
              for ((i = 0; i < ${#args[@]} - 1; i++)); do [[ ${args[i]} == -o ]] && out=${args[i+1]}; done
              {{Bamflow}} "$@" &
              pid=$!
              shopt -s nullglob
              while kill -0 "$pid" 2>/dev/null; do
                for tmp in "$(dirname "$out")"/."$(basename "$out")".*.bamflow-tmp; do
                  if [[ -s $tmp ]]; then
                    kill -KILL "$pid"; wait "$pid"
                    if [[ -s $tmp ]]; then echo "$tmp" > {{ShellQuote(killed)}}; else echo raced > {{ShellQuote(killed)}}; fi
                    exit 137
                  fi
                done
                sleep 0.005
              done
              echo missed > {{ShellQuote(killed)}}; wait "$pid"; exit 1
            fi
            exec {{Bamflow}} "$@"

            """);

        BamflowCli.Result run = RunWorkflow(samples, bamflow, convertOptions: "--row-group-size 1000 --compression none", planFiles: false);

        string partial = File.ReadAllText(killed).Trim();
        Assert.True(partial.EndsWith(".bamflow-tmp", StringComparison.Ordinal), $"the first attempt was not killed while its temporary file held data: {partial}");
        Assert.False(File.Exists(partial), $"the killed attempt's temporary file is still there: {partial}");
        Assert.Contains("Trying to restart job", run.StdoutText + run.Stderr, StringComparison.Ordinal);
        string[] converts = File.ReadAllLines(calls).Where(line => line.StartsWith("convert ", StringComparison.Ordinal)).ToArray();
        for (int shard = 1; shard <= Shards; shard++)
        {
            int attempts = converts.Count(line => line.Contains($" --shard {shard}/{Shards} ", StringComparison.Ordinal));
            Assert.True(attempts == (shard == 2 ? 2 : 1), $"shard {shard} was converted {attempts} times");
        }

        // Nothing but finished files anywhere: not in the dataset, and the staging folder is empty.
        AssertDataset(samples);
        string[] staged = Directory.GetFiles(Path.Combine(Work, "staging"), "*", SearchOption.AllDirectories);
        Assert.False(Directory.Exists(Path.Combine(Work, "plans")), "plan_files: false wrote plans");
        Assert.True(staged.Length == 0, "left in the staging folder: " + string.Join(", ", staged));
        AssertMergedStats(samples);
        AssertListing(samples);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("x/y")]
    [InlineData("s=1")]
    [InlineData("s%20")]
    [InlineData("_hidden")]
    [InlineData(".hidden")]
    [InlineData("001")]
    [InlineData("2024-01-02")]
    [InlineData("naïve")]
    [InlineData("Null")]
    [InlineData("epoch")]
    [InlineData("inf")]
    public void Snakemake_SampleNameUnsafeAsAPartitionFolder_StopsBeforeAnyJobNamingTheLine(string name)
    {
        RequireTool("snakemake", "snakemake");
        string bam = Conversion.Fixture("sample.bam");
        File.WriteAllText(Path.Combine(_folder.Path, "samples.tsv"), $"sample\tpath\nfine\t{bam}\n{name}\t{bam}\n");
        string snakefile = Path.Combine(SharedData.RepositoryRoot, "src", "workflow", "Snakefile");

        BamflowCli.Result run = BamflowCli.RunProgram(
            "snakemake", _folder.Path, 120,
            "-s", snakefile, "-n", "--cores", "1", "--directory", _folder.Path, "--nocolor", "--config", "samples=samples.tsv");

        Assert.NotEqual(0, run.ExitCode);
        string output = run.StdoutText + run.Stderr;
        Assert.Contains($"samples.tsv line 3: sample name '{name}' cannot name a dataset folder (sample=NAME)", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "bamflow-work")), "a job ran");
    }

    [Fact]
    public void Snakemake_SampleSafeNames_DryRunPlansEveryShard()
    {
        RequireTool("snakemake", "snakemake");
        string bam = Conversion.Fixture("sample.bam");
        File.WriteAllText(Path.Combine(_folder.Path, "samples.tsv"), $"sample\tpath\tshards\nA1\t{bam}\nb.2-c_3\t{bam}\t3\n");
        string snakefile = Path.Combine(SharedData.RepositoryRoot, "src", "workflow", "Snakefile");

        BamflowCli.Result run = BamflowCli.RunProgram(
            "snakemake", _folder.Path, 120,
            "-s", snakefile, "-n", "--cores", "1", "--directory", _folder.Path, "--nocolor", "--config", "samples=samples.tsv", "shards=2");

        Assert.True(run.ExitCode == 0, run.StdoutText + run.Stderr);
        string output = run.StdoutText + run.Stderr;
        foreach (string part in new[] { "sample=A1/part-00001", "sample=A1/part-00002", "sample=b.2-c_3/part-00001", "sample=b.2-c_3/part-00003" })
        {
            Assert.Contains($"output: dataset/{part}.parquet", output, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("sample=A1/part-00003", output, StringComparison.Ordinal);
    }

    /// <summary>The bamflow built with the tests, as a shell command.</summary>
    private static string Bamflow => "dotnet " + ShellQuote(BamflowCli.Dll);

    private string Dataset => Path.Combine(_folder.Path, "dataset");

    private string Work => Path.Combine(_folder.Path, "work");

    /// <summary>Runs the repository's workflow with <c>snakemake --cores 2</c> in the test's folder, and requires success.</summary>
    private BamflowCli.Result RunWorkflow(Dictionary<string, string> samples, string bamflow, string convertOptions, bool planFiles)
    {
        string sheet = Path.Combine(_folder.Path, "samples.tsv");
        File.WriteAllText(sheet, "sample\tpath\n" + string.Concat(samples.Select(s => $"{s.Key}\t{s.Value}\n")));
        string config = Path.Combine(_folder.Path, "config.yaml");
        File.WriteAllText(config, $"""
            bamflow: {YamlQuote(bamflow)}
            samples: {YamlQuote(sheet)}
            output: {YamlQuote(Dataset)}
            work: {YamlQuote(Work)}
            shards: {Shards}
            shards_per_gb: 0
            plan_files: {(planFiles ? "true" : "false")}
            threads: 1
            retries: 2
            format: parquet
            convert_options: {YamlQuote(convertOptions)}

            """);
        string snakefile = Path.Combine(SharedData.RepositoryRoot, "src", "workflow", "Snakefile");

        // One core per job: on two cores two shards convert at once (the runs are short, start-up dominates).
        BamflowCli.Result run = BamflowCli.RunProgram(
            "snakemake", _folder.Path, 600,
            "-s", snakefile, "--configfile", config, "--cores", "2", "--directory", _folder.Path, "--show-failed-logs", "--nocolor");
        Assert.True(run.ExitCode == 0, $"snakemake exited {run.ExitCode}:\n{run.StdoutText}\n{run.Stderr}");
        return run;
    }

    /// <summary>
    /// The dataset holds exactly the part files (nothing hidden, no temporary file); DuckDB over it gives each sample's
    /// record count and flagstat counters as samtools does; each sample's parts share one schema and have no sample
    /// column of their own; and the parts, in order, are the BAM's records, every field as samtools view shows it.
    /// </summary>
    private void AssertDataset(Dictionary<string, string> samples)
    {
        string[] expectedFiles = samples.Keys
            .SelectMany(s => Enumerable.Range(1, Shards).Select(k => Path.Combine($"sample={s}", $"part-{k:D5}.parquet")))
            .Order(StringComparer.Ordinal).ToArray();
        string[] files = Directory.GetFileSystemEntries(Dataset, "*", SearchOption.AllDirectories)
            .Where(path => !Directory.Exists(path))
            .Select(path => Path.GetRelativePath(Dataset, path))
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedFiles, files);

        using DuckDBConnection connection = ParquetSam.Open();
        string dataset = $"read_parquet({ParquetSam.Quote(Path.Combine(Dataset, "**", "*.parquet"))}, hive_partitioning = true, union_by_name = true)";
        string counters = string.Join(", ", s_flagstatCounters.Select((c, i) => $"count(*) FILTER (WHERE {c.Where}) AS c{i}"));
        var counted = new Dictionary<(string Sample, bool QcFailed), long[]>();
        foreach (object?[] row in ParquetSam.Query(connection, $"SELECT sample, flag & 512 <> 0 AS qc_failed, {counters} FROM {dataset} GROUP BY ALL"))
        {
            counted[((string)row[0]!, (bool)row[1]!)] = row.Skip(2).Select(System.Convert.ToInt64).ToArray();
        }

        // The partition column is text (sample names start with a letter, so no reader takes one for a number or a date).
        Assert.Equal(["VARCHAR"], ParquetSam.Query(connection, $"SELECT DISTINCT typeof(sample) FROM {dataset}").Select(row => (string)row[0]!));
        var records = ParquetSam.Query(connection, $"SELECT sample, count(*) FROM {dataset} GROUP BY sample")
            .ToDictionary(row => (string)row[0]!, row => System.Convert.ToInt64(row[1], CultureInfo.InvariantCulture));
        Assert.Equal(samples.Keys.Order(StringComparer.Ordinal), records.Keys.Order(StringComparer.Ordinal));

        foreach ((string sample, string bam) in samples)
        {
            string context = $"sample {sample} ({Path.GetFileName(bam)})";
            Assert.True(SamtoolsRecords(bam) == records[sample], $"{context}: samtools view -c counts {SamtoolsRecords(bam)} records, DuckDB over the dataset {records[sample]}");
            Dictionary<string, (long Passed, long Failed)> oracle = SamtoolsFlagstat(bam);
            Assert.Equal(s_flagstatCounters.Select(c => c.Label).Order(StringComparer.Ordinal), oracle.Keys.Order(StringComparer.Ordinal));
            long[] none = new long[s_flagstatCounters.Length];
            long[] passed = counted.GetValueOrDefault((sample, false), none);
            long[] failed = counted.GetValueOrDefault((sample, true), none);
            for (int i = 0; i < s_flagstatCounters.Length; i++)
            {
                string label = s_flagstatCounters[i].Label;
                Assert.True(oracle[label] == (passed[i], failed[i]), $"{context}: '{label}': samtools flagstat {oracle[label].Passed} + {oracle[label].Failed}, DuckDB {passed[i]} + {failed[i]}");
            }

            // The plan fixes the schema: every part of a sample has the same columns; none is the partition's own.
            string glob = ParquetSam.Quote(Path.Combine(Dataset, $"sample={sample}", "*.parquet"));
            List<object?[]> schemas = ParquetSam.Query(connection, $"""
                SELECT file_name, string_agg(name || ':' || coalesce(type, '') || ':' || coalesce(repetition_type, '') || ':' || coalesce(CAST(num_children AS VARCHAR), ''), ',')
                FROM parquet_schema({glob}) GROUP BY file_name
                """);
            Assert.Equal(Shards, schemas.Count);
            Assert.True(schemas.Select(row => (string)row[1]!).Distinct().Count() == 1, $"{context}: the parts' schemas differ:\n{string.Join('\n', schemas.Select(row => $"{row[0]}: {row[1]}"))}");
            Assert.Empty(ParquetSam.Query(connection, $"SELECT file_name FROM parquet_schema({glob}) WHERE lower(name) = 'sample'"));

            var lines = new List<ArrowSam.Line>();
            for (int k = 1; k <= Shards; k++)
            {
                lines.AddRange(ParquetSam.Lines(Path.Combine(Dataset, $"sample={sample}", $"part-{k:D5}.parquet")));
            }

            ArrowSam.AssertSame(ArrowSam.SamtoolsLines(bam), lines, $"{context}: its {Shards} parts in order");
        }
    }

    /// <summary>Each sample's merged stats are samtools flagstat's output byte for byte, as text and as JSON.</summary>
    private void AssertMergedStats(Dictionary<string, string> samples)
    {
        foreach ((string sample, string bam) in samples)
        {
            (int code, byte[] text, string error) = Samtools.Run(null, "flagstat", bam);
            Assert.True(code == 0, $"samtools flagstat {bam}: {error}");
            Assert.Equal(Encoding.ASCII.GetString(text), File.ReadAllText(Path.Combine(Work, "flagstat", $"{sample}.flagstat")));
            (code, byte[] json, error) = Samtools.Run(null, "flagstat", "-O", "json", bam);
            Assert.True(code == 0, $"samtools flagstat -O json {bam}: {error}");
            Assert.Equal(Encoding.ASCII.GetString(json), File.ReadAllText(Path.Combine(Work, "flagstat", $"{sample}.flagstat.json")));
        }
    }

    /// <summary>The workflow's target, WORK/dataset.tsv, lists every part file with the records DuckDB finds in it.</summary>
    private void AssertListing(Dictionary<string, string> samples)
    {
        using DuckDBConnection connection = ParquetSam.Open();
        string[] listing = File.ReadAllLines(Path.Combine(Work, "dataset.tsv"));
        Assert.Equal("sample\tpart\tpath\trecords\tbytes", listing[0]);
        Assert.Equal(samples.Count * Shards, listing.Length - 1);
        foreach (string[] fields in listing.Skip(1).Select(line => line.Split('\t')))
        {
            string path = Path.Combine(Dataset, $"sample={fields[0]}", $"part-{fields[1]}.parquet");
            Assert.Equal(Path.GetFullPath(path), Path.GetFullPath(fields[2], _folder.Path));
            long rows = System.Convert.ToInt64(ParquetSam.Query(connection, $"SELECT count(*) FROM read_parquet({ParquetSam.Quote(path)})")[0][0], CultureInfo.InvariantCulture);
            Assert.True(rows == long.Parse(fields[3], CultureInfo.InvariantCulture), $"{path}: listed with {fields[3]} records, DuckDB reads {rows}");
            Assert.Equal(new FileInfo(path).Length, long.Parse(fields[4], CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A slice of the benchmark BAM (25,000 simulated read pairs, aligned, sorted, indexed), made as README says.</summary>
    private string MakeBenchSlice()
    {
        string script = Path.Combine(SharedData.Require(), "bench", "make-bench-bam.sh");
        BamflowCli.Result made = BamflowCli.RunProgram("bash", _folder.Path, 300, script, Path.Combine(_folder.Path, "bench"), "25000");
        Assert.True(made.ExitCode == 0, $"{script} failed: {made.Stderr}");
        string bam = made.StdoutText.Trim().Split('\n')[^1];
        Assert.True(File.Exists(bam), $"{script} made no BAM: {made.StdoutText}");
        return bam;
    }

    /// <summary>Skips without snakemake or the benchmark's tools (fails under CI, which must have them: .ci/run installs them).</summary>
    private static void RequireTools()
    {
        RequireTool("snakemake", "snakemake");
        RequireTool("art_illumina", "art-nextgen-simulation-tools");
        RequireTool("minimap2", "minimap2");
    }

    private static void RequireTool(string tool, string package)
    {
        bool present = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(folder => File.Exists(Path.Combine(folder, tool)));
        if (!present)
        {
            string message = $"{tool} is not installed (Debian: apt-get install {package})";
            Assert.False(SharedData.InCi, message + " and CI is set: .ci/run installs it");
            Assert.Skip(message);
        }
    }

    private static long SamtoolsRecords(string bam)
    {
        (int code, byte[] stdout, string error) = Samtools.Run(null, "view", "-c", bam);
        Assert.True(code == 0, $"samtools view -c {bam}: {error}");
        return long.Parse(Encoding.ASCII.GetString(stdout).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary><c>samtools flagstat -O tsv</c>: each counter's label with its QC-passed and QC-failed numbers (the percentages left out).</summary>
    private static Dictionary<string, (long Passed, long Failed)> SamtoolsFlagstat(string bam)
    {
        (int code, byte[] stdout, string error) = Samtools.Run(null, "flagstat", "-O", "tsv", bam);
        Assert.True(code == 0, $"samtools flagstat -O tsv {bam}: {error}");
        return Encoding.ASCII.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .Where(fields => !fields[2].EndsWith(" %", StringComparison.Ordinal))
            .ToDictionary(fields => fields[2], fields => (long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture)), StringComparer.Ordinal);
    }

    private string WriteScript(string name, string body)
    {
        string path = Path.Combine(_folder.Path, name);
        File.WriteAllText(path, "#!/usr/bin/env bash\n" + body);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string YamlQuote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
