using System.Diagnostics;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

namespace Bamflow.Benchmarks;

/// <summary>
/// <c>--check</c>: keeps the benchmarks alive in CI. On the repository's sample BAM it (1) calls every benchmark
/// method once directly and checks that, within each class, every method returns what the baseline returns
/// (same checksum of the decoded data, same record count), and (2) runs every benchmark through
/// BenchmarkDotNet once, in process (Job.Dry, InProcessEmitToolchain). Exit code 1 on any disagreement,
/// exception or failed benchmark.
/// </summary>
public static class CheckMode
{
    /// <summary>Runs the check; returns the exit code.</summary>
    public static int Run()
    {
        var clock = Stopwatch.StartNew();
        Environment.SetEnvironmentVariable(BenchmarkInput.PathVariable, BenchmarkInput.SampleBam);
        BenchmarkInput input = BenchmarkInput.Load();
        Console.WriteLine($"check mode: {input.Description}");

        Type[] types = [.. typeof(CheckMode).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)];
        int failures = 0;
        foreach (Type type in types)
        {
            failures += Verify(type);
        }

        BenchmarkDotNet.Reports.Summary[] summaries = BenchmarkRunner.Run(types, BenchmarkConfig.Check);
        int expected = types.Sum(t => t.GetMethods().Count(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null));
        int succeeded = summaries.Sum(s => s.Reports.Count(r => r.Success));
        foreach (BenchmarkDotNet.Reports.Summary summary in summaries)
        {
            foreach (BenchmarkDotNet.Validators.ValidationError error in summary.ValidationErrors.Where(e => e.IsCritical))
            {
                Console.WriteLine($"FAIL validation: {error.Message}");
                failures++;
            }

            foreach (BenchmarkDotNet.Reports.BenchmarkReport report in summary.Reports.Where(r => !r.Success))
            {
                Console.WriteLine($"FAIL benchmark run: {report.BenchmarkCase.DisplayInfo}");
                failures++;
            }
        }

        if (succeeded != expected)
        {
            Console.WriteLine($"FAIL: {succeeded} of {expected} benchmarks ran successfully under BenchmarkDotNet");
            failures++;
        }

        Console.WriteLine(failures == 0
            ? $"check mode: OK, {types.Length} groups, {expected} benchmarks, every result equal to its baseline's ({clock.Elapsed.TotalSeconds:F1} s)"
            : $"check mode: {failures} failure(s) ({clock.Elapsed.TotalSeconds:F1} s)");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Calls each benchmark of <paramref name="type"/> once and compares its result with the baseline's.</summary>
    private static int Verify(Type type)
    {
        MethodInfo[] methods = type.GetMethods();
        MethodInfo[] benchmarks = [.. methods.Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null)];
        MethodInfo[] baselines = [.. benchmarks.Where(m => m.GetCustomAttribute<BenchmarkAttribute>()!.Baseline)];
        if (baselines.Length != 1)
        {
            Console.WriteLine($"FAIL {type.Name}: {baselines.Length} baselines (every group needs exactly one)");
            return 1;
        }

        object instance = Activator.CreateInstance(type)!;
        int failures = 0;
        try
        {
            Invoke<GlobalSetupAttribute>(methods, instance);
            object? expected = Call(baselines[0], instance);
            Console.WriteLine($"  {type.Name}.{baselines[0].Name} (baseline) = {expected}");
            foreach (MethodInfo method in benchmarks.Where(m => m != baselines[0]))
            {
                object? actual = Call(method, instance);
                bool same = Equals(actual, expected);
                Console.WriteLine($"{(same ? "  " : "FAIL ")}{type.Name}.{method.Name} = {actual}{(same ? "" : $", baseline {expected}")}");
                failures += same ? 0 : 1;
            }
        }
        catch (TargetInvocationException e)
        {
            Console.WriteLine($"FAIL {type.Name}: {e.InnerException}");
            failures++;
        }
        finally
        {
            Invoke<GlobalCleanupAttribute>(methods, instance);
        }

        return failures;
    }

    private static void Invoke<TAttribute>(MethodInfo[] methods, object instance)
        where TAttribute : Attribute
    {
        foreach (MethodInfo method in methods.Where(m => m.GetCustomAttribute<TAttribute>() is not null))
        {
            method.Invoke(instance, null);
        }
    }

    private static object? Call(MethodInfo method, object instance)
    {
        object? result = method.Invoke(instance, null);
        return result is Task<long> task ? task.GetAwaiter().GetResult() : result;
    }
}
