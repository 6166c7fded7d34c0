using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Benchmarks.Arrow;
using Bamflow.Dataflow;

namespace Bamflow.Benchmarks.Dataflow;

/// <summary>
/// Writing <see cref="BenchmarkInput.RecordCount"/> records, already converted, to <see cref="Stream.Null"/>;
/// per operation = per record. Bamflow: the prebuilt record batches through <see cref="ArrowIpcSink"/> (IPC
/// stream format, what <c>bamflow convert -o -</c> writes) uncompressed, LZ4 and Zstandard.
/// Baseline: what <c>samtools view</c> does, the same records as SAM text, formatted and written one line at a time.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("IpcWrite")]
public class IpcWriteBenchmarks
{
    private readonly TextBuffer _line = new(4096);
    private BenchmarkInput? _input;
    private BatchPlan? _plan;
    private List<RecordBatch> _batches = [];

    /// <summary>Loads the records and builds the batches once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _input = BenchmarkInput.Load();
        _plan = BatchPlan.Create(_input);
        var builder = new RecordBatchBuilder(_plan.Schema);
        int referenceCount = _input.Header.References.Count;
        foreach ((int start, int length) in _plan.Batches)
        {
            ReadOnlySpan<byte> data = _input.Records.AsSpan(start, length);
            int offset = 0;
            while (BenchmarkInput.NextRecord(data, ref offset, referenceCount, out BamRecord record))
            {
                builder.Append(record);
            }

            _batches.Add(builder.Build());
        }
    }

    /// <summary>Disposes the batches.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (RecordBatch batch in _batches)
        {
            batch.Dispose();
        }

        _batches = [];
    }

    /// <summary>Naive: SAM text, one line at a time (Bamflow's samtools-exact SamFormatter into a reused buffer).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long SamTextLines()
    {
        ReadOnlySpan<byte> data = _input!.Records;
        int referenceCount = _input.Header.References.Count;
        Stream output = Stream.Null;
        int offset = 0;
        long lines = 0;
        while (BenchmarkInput.NextRecord(data, ref offset, referenceCount, out BamRecord record))
        {
            _line.Clear();
            SamFormatter.AppendRecord(record, _input.Header, _line);
            _line.Append((byte)'\n');
            output.Write(_line.WrittenSpan);
            lines++;
        }

        return lines;
    }

    /// <summary>Arrow IPC stream, uncompressed (the default).</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public Task<long> IpcUncompressed() => WriteAll(IpcCompression.None);

    /// <summary>Arrow IPC stream, LZ4 frame body compression.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public Task<long> IpcLz4() => WriteAll(IpcCompression.Lz4);

    /// <summary>Arrow IPC stream, Zstandard body compression.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public Task<long> IpcZstd() => WriteAll(IpcCompression.Zstd);

    private async Task<long> WriteAll(IpcCompression compression)
    {
        long rows = 0;
        await using var sink = new ArrowIpcSink(Stream.Null, ArrowIpcFormat.Stream, compression);
        await sink.StartAsync(_plan!.Schema.Schema, CancellationToken.None);
        foreach (RecordBatch batch in _batches)
        {
            await sink.WriteAsync(batch, CancellationToken.None);
            rows += batch.Length;
        }

        await sink.CompleteAsync(CancellationToken.None);
        return rows;
    }
}
