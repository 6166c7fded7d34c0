using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Arrow;

/// <summary>Every array a batch builder rents comes back, and a long run reuses the same few arrays.</summary>
public sealed class ColumnBufferPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public void Builder_BatchesReturned_NothingOutstandingAndArraysReused(int batchSize)
    {
        // RG is never absent (an all-valid column: its bitmap is not part of the batch), SA mostly absent.
        using BamReader reader = BamReader.Open(Conversion.Fixture("sample.bam"));
        var options = new ConversionOptions { BatchSize = batchSize };
        TagColumn[] tags = [TagColumn.For("RG", (byte)'Z', 0), TagColumn.For("SA", (byte)'Z', 0), TagColumn.For("NM", (byte)'C', 0)];
        var schema = new BamArrowSchema(reader.Header, options, tags, "sample.bam");
        ColumnBufferPool pool = ColumnBufferPool.CreatePooling();
        var builder = new RecordBatchBuilder(schema, pool);
        long rows = 0;

        while (reader.TryRead(out BamRecord record))
        {
            builder.Append(record);
            if (builder.Count == batchSize)
            {
                rows += Release(builder.Build(), pool);
            }
        }

        if (builder.Count > 0)
        {
            rows += Release(builder.Build(), pool);
        }

        Assert.Equal(reader.RecordCount, rows);
        Assert.Equal(0, pool.Outstanding);
        // One batch's worth of arrays, reused: a leak or a missed fit would make this grow with the batch count.
        Assert.InRange(pool.ArraysAllocated, 1, 3 * schema.Schema.FieldsList.Count + 3 * tags.Length);
    }

    private static int Release(RecordBatch batch, ColumnBufferPool pool)
    {
        int rows = batch.Length;
        pool.Return(batch);
        batch.Dispose();
        return rows;
    }
}
