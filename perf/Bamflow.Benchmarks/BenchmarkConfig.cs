using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Bamflow.Benchmarks;

/// <summary>The configurations: a real run (BenchmarkSwitcher) and check mode's one in-process pass.</summary>
public static class BenchmarkConfig
{
    /// <summary>
    /// Runs the benchmarks <paramref name="args"/> select (BenchmarkSwitcher's arguments: <c>--filter '*Inflate*'</c>,
    /// <c>--job</c>, …). Default job: ShortRun (3 warm-up and 3 measured iterations, one process), which is as much
    /// as a shared 2-core machine's noise deserves; the ratio column against each group's baseline is the figure.
    /// </summary>
    public static int Run(BenchmarkSwitcher switcher, string[] args)
    {
        ArgumentNullException.ThrowIfNull(switcher);
        // The child processes BenchmarkDotNet starts read the same input.
        Environment.SetEnvironmentVariable(BenchmarkInput.PathVariable, BenchmarkInput.ResolvePath());
        Console.WriteLine($"Input: {BenchmarkInput.Load().Description}");
        IConfig config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.AsDefault())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        IEnumerable<BenchmarkDotNet.Reports.Summary> summaries = switcher.Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    /// <summary>Check mode: every benchmark once (Job.Dry), in this process (no child project build).</summary>
    public static IConfig Check { get; } = ManualConfig.CreateEmpty()
        .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance))
        .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
        .AddColumnProvider(DefaultColumnProviders.Instance)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "bamflow-benchmarks-check"));
}
