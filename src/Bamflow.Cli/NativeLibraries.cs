using System.Runtime.InteropServices;
using Bamflow.Arrow;

namespace Bamflow.Cli;

/// <summary>What to tell a user whose native library (ParquetSharpNative, the Parquet writer) did not load.</summary>
internal static class NativeLibraries
{
    /// <summary>Which file is missing, where it must be, and how to get it there.</summary>
    public static string Describe(DllNotFoundException e)
    {
        // "Unable to load shared library 'ParquetSharpNative' or one of its dependencies. …"
        string[] quoted = e.Message.Split('\'');
        string name = quoted.Length >= 3 ? quoted[1] : "a native library";
        string file = name + (OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so");
        string directory = AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(directory, file), // a published (native AOT) executable: beside it
            Path.Combine(directory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", file), // dotnet bamflow.dll, the tool
        ];
        string? present = candidates.FirstOrDefault(File.Exists);
        if (present is not null)
        {
            return AddressSpace.Limit is { } limit
                ? $"{present} could not be loaded under the virtual memory limit (ulimit -v) of {AddressSpace.Mebibytes(limit)}; raise the limit"
                : $"{present} is there but could not be loaded ({e.Message})";
        }

        bool frameworkDependent = File.Exists(Path.Combine(directory, "bamflow.dll")); // the tool, dotnet bamflow.dll
        return $"{file} is missing: Parquet output needs it at {(frameworkDependent ? candidates[1] : candidates[0])}. "
            + "Install the whole directory `dotnet publish` makes (or the release archive), not the bamflow file alone, "
            + "or install with `dotnet tool install`; Arrow output (.arrow) works without it";
    }
}
