using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Stats;

/// <summary>Observe allocates nothing per record once its tables have grown to the data.</summary>
public sealed class AllocationTests
{
    [Theory]
    [InlineData("sample.bam")]
    [InlineData("edge-cases.bam")]
    public void Observe_SecondPass_AllocatesNothing(string fixture)
    {
        string path = Conversion.Fixture(fixture);
        var statistics = new BamStatistics();
        Observe(path, statistics); // first pass: tables grow to the longest read and the largest refID

        long allocated = Observe(path, statistics);

        Assert.Equal(0, allocated);
    }

    /// <summary>Observes every record of the file, returning the bytes allocated inside the Observe calls only.</summary>
    private static long Observe(string path, BamStatistics statistics)
    {
        using BamReader reader = BamReader.Open(path);
        long allocated = 0;
        while (reader.TryRead(out BamRecord record))
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            statistics.Observe(record);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        return allocated;
    }
}
