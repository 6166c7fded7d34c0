using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;

namespace Bamflow.Benchmarks.Arrow;

/// <summary>
/// How the benchmark records become batches, as the engine would cut them: the schema from tag discovery on
/// the first records, and batch boundaries at <see cref="ConversionOptions.BatchSize"/> records or
/// <see cref="ConversionOptions.MaxBatchBytes"/> bytes, whichever comes first (the defaults).
/// </summary>
public sealed class BatchPlan
{
    private BatchPlan(BamArrowSchema schema, IReadOnlyList<(int Offset, int Length)> batches)
    {
        Schema = schema;
        Batches = batches;
    }

    /// <summary>The schema every batch has.</summary>
    public BamArrowSchema Schema { get; }

    /// <summary>Each batch's byte range in <see cref="BenchmarkInput.Records"/>.</summary>
    public IReadOnlyList<(int Offset, int Length)> Batches { get; }

    /// <summary>Plans batches of <paramref name="input"/> with the default options.</summary>
    public static BatchPlan Create(BenchmarkInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var options = new ConversionOptions();
        ReadOnlySpan<byte> data = input.Records;
        int referenceCount = input.Header.References.Count;

        var discovery = new TagDiscovery();
        int offset = 0;
        while (discovery.RecordsScanned < options.TagScanRecords && BenchmarkInput.NextRecord(data, ref offset, referenceCount, out BamRecord record))
        {
            discovery.Observe(record);
        }

        var batches = new List<(int, int)>();
        int start = 0, count = 0;
        offset = 0;
        while (BenchmarkInput.NextRecord(data, ref offset, referenceCount, out _))
        {
            count++;
            if (count == options.BatchSize || offset - start >= options.MaxBatchBytes)
            {
                batches.Add((start, offset - start));
                start = offset;
                count = 0;
            }
        }

        if (count > 0)
        {
            batches.Add((start, offset - start));
        }

        return new BatchPlan(BamArrowSchema.Create(input.Header, options, discovery, System.IO.Path.GetFileName(input.Path)), batches);
    }

    /// <summary>
    /// What check mode compares between batch builders: rows, the sum of FLAG, and the bytes of the qname,
    /// cigar, seq and qual columns (nulls count 0).
    /// </summary>
    public static long Checksum(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long flags = 0;
        foreach (ushort flag in ((UInt16Array)batch.Column(BamColumns.Flag)).Values)
        {
            flags += flag;
        }

        long hash = Benchmarks.Checksum.Mix(batch.Length, flags);
        foreach (string name in (string[])[BamColumns.QName, BamColumns.Cigar, BamColumns.Seq, BamColumns.Qual])
        {
            var column = (StringArray)batch.Column(name);
            hash = Benchmarks.Checksum.Mix(hash, column.ValueOffsets[column.Length]);
        }

        return hash;
    }
}
