using System.Reflection;
using Bamflow.Parquet;

namespace Bamflow.Tests.Parquet;

/// <summary>The Parquet sink hangs off the Arrow layer (STYLE.md §2): it must not need the engine.</summary>
public sealed class ParquetLayeringTests
{
    [Fact]
    public void ParquetAssembly_References_ArrowLayerButNotTheEngine()
    {
        string[] references = [.. typeof(ParquetSink).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "")];

        Assert.Contains("Bamflow.Arrow", references);
        Assert.DoesNotContain("Bamflow.Dataflow", references);
    }
}
