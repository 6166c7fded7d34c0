using BenchmarkDotNet.Running;
using Bamflow.Benchmarks;

return args.Contains("--check") ? CheckMode.Run() : BenchmarkConfig.Run(BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly), args);
