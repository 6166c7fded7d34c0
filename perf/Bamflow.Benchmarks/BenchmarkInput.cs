using System.Buffers;
using System.Buffers.Binary;
using Bamflow.Bam;
using Bamflow.Bgzf;

namespace Bamflow.Benchmarks;

/// <summary>
/// The data every benchmark works on, loaded once per process: the first <see cref="RecordCount"/> records of
/// the benchmark BAM (each with its block_size prefix, as in the file, concatenated) and its first
/// <see cref="BlockCount"/> compressed BGZF blocks. A file with fewer records or blocks (the repository's
/// sample) is repeated to fill the count, so every benchmark does the same number of operations whatever the
/// input and the per-operation figures (OperationsPerInvoke) mean the same thing.
/// </summary>
public sealed class BenchmarkInput
{
    /// <summary>Records per benchmark invocation (OperationsPerInvoke of the record groups).</summary>
    public const int RecordCount = 50_000;

    /// <summary>BGZF blocks per invocation of the inflate group.</summary>
    public const int BlockCount = 256;

    /// <summary>Environment variable naming the input BAM.</summary>
    public const string PathVariable = "BAMFLOW_BENCH_BAM";

    /// <summary>The benchmark BAM that <c>../shared/bench/make-bench-bam.sh /tmp/bench-data</c> makes.</summary>
    public const string DefaultBenchmarkBam = "/tmp/bench-data/bench-2000000.bam";

    private static readonly Lock s_lock = new();
    private static BenchmarkInput? s_loaded;

    private BenchmarkInput(string path, BamHeader header, byte[] records, int distinctRecords, BgzfBlock[] blocks, int distinctBlocks)
    {
        Path = path;
        Header = header;
        Records = records;
        DistinctRecords = distinctRecords;
        Blocks = blocks;
        DistinctBlocks = distinctBlocks;
    }

    /// <summary>The BAM file the data came from.</summary>
    public string Path { get; }

    /// <summary>Its header.</summary>
    public BamHeader Header { get; }

    /// <summary><see cref="RecordCount"/> records, each as block_size (int32) followed by the record's bytes.</summary>
    public byte[] Records { get; }

    /// <summary>How many of the records are distinct (the file's, before repeating).</summary>
    public int DistinctRecords { get; }

    /// <summary><see cref="BlockCount"/> whole compressed BGZF blocks.</summary>
    public IReadOnlyList<BgzfBlock> Blocks { get; }

    /// <summary>How many of the blocks are distinct.</summary>
    public int DistinctBlocks { get; }

    /// <summary>One line on what was loaded: file, counts, mean sizes (to turn per-operation times into throughput).</summary>
    public string Description =>
        $"{Path}: {RecordCount:N0} records ({DistinctRecords:N0} distinct), {(double)Records.Length / RecordCount:F0} bytes per record; " +
        $"{BlockCount} BGZF blocks ({DistinctBlocks} distinct), mean {Blocks.Average(b => b.Bytes.Length):F0} bytes compressed, " +
        $"{Blocks.Average(b => b.Frame.InflatedLength):F0} inflated";

    /// <summary>The input for this process: the file <see cref="ResolvePath"/> names, loaded on first use.</summary>
    public static BenchmarkInput Load()
    {
        lock (s_lock)
        {
            string path = ResolvePath();
            if (s_loaded is null || s_loaded.Path != path)
            {
                s_loaded = Read(path);
            }

            return s_loaded;
        }
    }

    /// <summary><c>$BAMFLOW_BENCH_BAM</c>, else the benchmark BAM if it exists, else tests/fixtures/sample.bam.</summary>
    public static string ResolvePath()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return System.IO.Path.GetFullPath(fromEnvironment);
        }

        return File.Exists(DefaultBenchmarkBam) ? DefaultBenchmarkBam : SampleBam;
    }

    /// <summary>The repository's small sample (2,023 records).</summary>
    public static string SampleBam => System.IO.Path.Combine(RepositoryRoot, "tests", "fixtures", "sample.bam");

    /// <summary>The directory holding pipeline.sln, found upwards from the executable or the working directory.</summary>
    public static string RepositoryRoot =>
        FindUpwards(AppContext.BaseDirectory) ?? FindUpwards(Environment.CurrentDirectory)
        ?? throw new InvalidOperationException("cannot find the repository (pipeline.sln) above the benchmark executable or the working directory; set " + PathVariable);

    /// <summary>
    /// Moves to the record at <paramref name="offset"/> in <see cref="Records"/>-style data (block_size, record, …)
    /// and advances the offset past it; false at the end. Validates the record as every reader of Bamflow does.
    /// </summary>
    public static bool NextRecord(ReadOnlySpan<byte> data, ref int offset, int referenceCount, out BamRecord record)
    {
        if (offset >= data.Length)
        {
            record = default;
            return false;
        }

        int size = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        if (BamRecord.TryCreate(data.Slice(offset + 4, size), referenceCount, out record) != BamRecordError.None)
        {
            throw new InvalidDataException($"invalid record at byte {offset} of the benchmark input");
        }

        offset += 4 + size;
        return true;
    }

    private static string? FindUpwards(string start)
    {
        for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "pipeline.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    private static BenchmarkInput Read(string path)
    {
        var records = new ArrayBufferWriter<byte>(1 << 20);
        BamHeader header;
        int distinctRecords = 0;
        using (BamReader reader = BamReader.Open(path))
        {
            header = reader.Header;
            while (distinctRecords < RecordCount && reader.TryRead(out BamRecord record))
            {
                BinaryPrimitives.WriteInt32LittleEndian(records.GetSpan(4), record.Data.Length);
                records.Advance(4);
                records.Write(record.Data);
                distinctRecords++;
            }
        }

        if (distinctRecords == 0)
        {
            throw new InvalidOperationException($"{path} has no records to benchmark");
        }

        byte[] distinct = records.WrittenSpan.ToArray();
        var all = new byte[(long)distinct.Length * RecordCount / distinctRecords + distinct.Length];
        int length = 0;
        for (int copied = 0; copied < RecordCount; copied += distinctRecords)
        {
            // Whole copies, then the first records of one more copy.
            int take = Math.Min(distinctRecords, RecordCount - copied);
            int bytes = take == distinctRecords ? distinct.Length : PrefixLength(distinct, take);
            distinct.AsSpan(0, bytes).CopyTo(all.AsSpan(length));
            length += bytes;
        }

        var blocks = new List<BgzfBlock>(BlockCount);
        using (var frames = new BgzfFrameReader(File.OpenRead(path), path))
        {
            byte[] buffer = new byte[BgzfFrame.MaxLength];
            while (blocks.Count < BlockCount && frames.TryReadFrame(buffer, out BgzfFrame frame))
            {
                if (!frame.IsEofMarker && frame.InflatedLength > 0)
                {
                    // Each block in its own array, at offset 0, as a reader would hand it over.
                    blocks.Add(new BgzfBlock(buffer.AsSpan(0, frame.Length).ToArray(), frame));
                }
            }
        }

        int distinctBlocks = blocks.Count;
        for (int i = 0; blocks.Count < BlockCount; i++)
        {
            blocks.Add(blocks[i]);
        }

        return new BenchmarkInput(path, header, all.AsSpan(0, length).ToArray(), distinctRecords, [.. blocks], distinctBlocks);
    }

    private static int PrefixLength(ReadOnlySpan<byte> records, int count)
    {
        int offset = 0;
        for (int i = 0; i < count; i++)
        {
            offset += 4 + BinaryPrimitives.ReadInt32LittleEndian(records[offset..]);
        }

        return offset;
    }
}

/// <summary>One whole compressed BGZF block, header to footer, and what its header and footer say.</summary>
/// <param name="Bytes">The block's bytes.</param>
/// <param name="Frame">Its frame (offsets are within <paramref name="Bytes"/>).</param>
public sealed record BgzfBlock(byte[] Bytes, BgzfFrame Frame);
