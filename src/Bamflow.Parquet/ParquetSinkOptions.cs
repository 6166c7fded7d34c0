namespace Bamflow.Parquet;

/// <summary>Parquet page compression.</summary>
public enum ParquetCompression
{
    /// <summary>Uncompressed pages.</summary>
    None,
    /// <summary>Snappy: fast, larger files.</summary>
    Snappy,
    /// <summary>Zstandard (the default): about as fast to read, much smaller.</summary>
    Zstd,
}

/// <summary>How <see cref="ParquetSink"/> writes. Immutable once handed over.</summary>
public sealed record ParquetSinkOptions
{
    /// <summary>
    /// The default rows per row group: 128 Ki rows, about DuckDB's own (122,880), so readers parallelise and skip
    /// work per group; the encoded pages of a group stay in memory until it is complete, and groups of 1 Mi rows
    /// cost 100–170 MB more peak RSS on short reads (measured on the benchmark BAM) for no smaller file.
    /// </summary>
    public const int DefaultRowGroupSize = 131_072;

    /// <summary>The default zstd level (Arrow C++'s default, 1: the best speed for its size on BAM columns).</summary>
    public const int DefaultZstdLevel = 1;

    /// <summary>Page compression. Default zstd.</summary>
    public ParquetCompression Compression { get; init; } = ParquetCompression.Zstd;

    /// <summary>Rows per row group (a batch larger than what is left of a group is split across groups).</summary>
    public int RowGroupSize { get; init; } = DefaultRowGroupSize;

    /// <summary>
    /// Columns (Parquet column paths, e.g. <c>rname</c>, <c>tags.RG</c>) that get dictionary encoding; every other
    /// column is written plain, where a dictionary would only cost time before falling back. Default: the reference
    /// names and the read group, the columns with few distinct values repeated on every row.
    /// </summary>
    public IReadOnlyList<string> DictionaryColumns { get; init; } = ["rname", "rnext", "tags.RG"];

    /// <summary>
    /// Top-level string columns that the sink, with zstd compression, writes itself instead of through Arrow C++
    /// (<c>ByteArrayColumnWriter</c>): straight from the Arrow buffers, values DELTA_LENGTH_BYTE_ARRAY, each page a
    /// standard zstd frame written by zstd's own compressor or, where a sample shows it smaller, by an order-0 entropy
    /// coder (Huffman-coded literals in zstd frames, which every zstd decoder reads): for base qualities that is
    /// smaller and several times faster. Default: <c>seq</c> and <c>qual</c>, the two large columns (short strings such
    /// as names and CIGARs compress better with their lengths among them, as Arrow C++'s PLAIN pages have them). Not
    /// used with other compressions; names that are not top-level string columns are ignored. Empty: Arrow C++ writes
    /// every column.
    /// </summary>
    public IReadOnlyList<string> SinkEncodedColumns { get; init; } = ["seq", "qual"];

    /// <summary>
    /// When the sink encodes on the calling thread (the sequential engine, one worker, or no engine): encode a row
    /// group's columns in parallel on Arrow C++'s thread pool (one thread per core of the machine, not limited by
    /// <c>PipelineOptions.Threads</c>). Default true; the CLI sets false. Attached to the parallel engine with two or
    /// more workers, the sink encodes row groups on the run's workers instead and this is not used. The file's
    /// bytes are the same either way.
    /// </summary>
    public bool UseThreads { get; init; } = true;

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (RowGroupSize < 1)
        {
            throw new ArgumentException($"row group size must be at least 1 (got {RowGroupSize})", nameof(RowGroupSize));
        }

        if (!Enum.IsDefined(Compression))
        {
            throw new ArgumentException($"unknown Parquet compression {Compression}", nameof(Compression));
        }
    }
}
