using Bamflow.Bam;
using Bamflow.Dataflow;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// The engines given a record whose block_size claims 2 GiB allocate about what a file of the same real size costs,
/// not what the record claims. Counts every byte the process allocates, so it runs alone.
/// </summary>
[Collection("AllocationCounting")]
public sealed class EngineAllocationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-alloc-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BlockSizeClaimingTwoGigabytes_AllocatesLikeTheDataThatIsThere(bool sequential)
    {
        // The same 1 MiB of real data follows the record in both files; one claims 100 bytes more than there are, one 2 GiB.
        byte[] filler = new byte[1 << 20];
        new Random(11).NextBytes(filler);
        string hostile = Path.Combine(_dir, "hostile.bam");
        string plain = Path.Combine(_dir, "plain.bam");
        byte[] record = HostileInputTests.HostileRecordBytes("block_size int.MaxValue");
        File.WriteAllBytes(hostile, HostileInputTests.HostileFile(record, filler));
        byte[] modest = (byte[])record.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(modest, record.Length - 4 + filler.Length + 100); // 100 bytes past the data
        File.WriteAllBytes(plain, HostileInputTests.HostileFile(modest, filler));
        var options = new PipelineOptions { Sequential = sequential, Threads = 2 };

        await RunAsync(plain, options, BamRecordError.Truncated); // warm up: JIT, pools, statics
        long plainBytes = await RunAsync(plain, options, BamRecordError.Truncated);
        long hostileBytes = await RunAsync(hostile, options, BamRecordError.BlockSizeTooLarge); // beyond the record size limit

        Assert.True(hostileBytes - plainBytes < 8 << 20, $"sequential={sequential}: {hostileBytes:N0} bytes allocated for the 2 GiB claim, {plainBytes:N0} for a claim 100 bytes past the data");
    }

    private static async Task<long> RunAsync(string path, PipelineOptions options, BamRecordError expected)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        using (BamReader reader = BamReader.Open(path))
        {
            var engine = new BamArrowPipeline(new() { BatchSize = 500 }, options);
            await using var sink = new ArrowIpcSink(Stream.Null, ArrowIpcFormat.Stream);
            var error = await Assert.ThrowsAsync<BamRecordFormatException>(() => engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(EngineRuns.Deadline, TestContext.Current.CancellationToken));
            Assert.Equal(expected, error.Error);
        }

        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }
}
