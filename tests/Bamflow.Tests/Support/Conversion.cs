using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;

namespace Bamflow.Tests.Support;

/// <summary>Runs the engine in-process into memory.</summary>
public static class Conversion
{
    /// <summary>Converts <paramref name="path"/> to Arrow IPC bytes.</summary>
    public static (byte[] Ipc, ConversionSummary Summary) ToIpc(string path, ConversionOptions? conversion = null, PipelineOptions? pipeline = null, ArrowIpcFormat format = ArrowIpcFormat.File) =>
        ToIpc(path, new BamArrowPipeline(conversion, pipeline), format);

    /// <summary>Runs <paramref name="engine"/> (with whatever stages it has) over <paramref name="path"/> into Arrow IPC bytes.</summary>
    public static (byte[] Ipc, ConversionSummary Summary) ToIpc(string path, BamArrowPipeline engine, ArrowIpcFormat format = ArrowIpcFormat.File)
    {
        using BamReader reader = BamReader.Open(path);
        var output = new MemoryStream();
        var sink = new ArrowIpcSink(output, format);
        ConversionSummary summary = engine.RunAsync(reader, sink).GetAwaiter().GetResult();
        return (output.ToArray(), summary);
    }

    /// <summary>Converts and reads the batches back with the Arrow reader.</summary>
    public static List<RecordBatch> ToBatches(string path, ConversionOptions? conversion = null, PipelineOptions? pipeline = null)
    {
        (byte[] ipc, _) = ToIpc(path, conversion, pipeline);
        return ArrowSam.ReadAll(ipc, stream: false);
    }

    /// <summary>The repository's fixture folder (copied beside the test binaries).</summary>
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);
}
