using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Bamflow.Parquet;

/// <summary>
/// Writes the pipeline's batches as one Parquet file. Each row group is encoded by its own ParquetSharp writer
/// (Arrow C++'s Parquet writer, fed the batches over the Arrow C data interface) into memory, and the row groups
/// are joined into one file in order (<see cref="ParquetStitcher"/>). Attached to the parallel engine, the sink
/// encodes up to one row group per worker at a time on the run's own scheduler, so Parquet encoding and
/// compression use every core the run has; otherwise it encodes on the caller's thread. The Arrow schema is stored
/// in the file, so Arrow readers get the dictionary types and field metadata back; the schema metadata becomes the
/// file's key-value metadata, plus <see cref="TagTypesKey"/> and <see cref="TagNamesKey"/> for readers that do not
/// surface field metadata.
/// </summary>
/// <remarks>
/// Parquet is written strictly front to back (the footer last), so <paramref name="stream"/> need not be seekable.
/// </remarks>
public sealed partial class ParquetSink(Stream stream, ParquetSinkOptions? options = null, bool leaveOpen = true) : IRecordBatchSink
{
    /// <summary>
    /// Key-value metadata key: a JSON object from each tag child's name to its SAM type, in column order
    /// (<c>{"NM":"i","ML":"B:C"}</c>). The name is the tag itself unless another tag differs from it only in case
    /// (<c>{"NM_uu":"i","nM_lu":"i"}</c>, see <see cref="TagNaming"/>); its first two characters are always the tag.
    /// </summary>
    public const string TagTypesKey = "sam.tag_types";

    /// <summary>
    /// Key-value metadata key: a JSON object from each tag child's name to its exact SAM tag, in column order
    /// (<c>{"NM_uu":"NM","nM_lu":"nM","MD":"MD"}</c>), as the children's <c>sam.tag</c> field metadata says.
    /// </summary>
    public const string TagNamesKey = "sam.tag_names";

    private readonly ParquetSinkOptions _options = options ?? new ParquetSinkOptions();
    private readonly Dictionary<IArrowArray, IArrowArray> _managedDictionaries = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<RowGroupPart> _parts = new();
    private ParquetStitcher? _stitcher;
    private Schema? _schema;
    private WriterProperties? _properties;
    private ArrowWriterProperties? _arrowProperties;
    private byte[]? _template;
    private SinkContext? _context;
    private SemaphoreSlim? _held;
    private readonly Stack<MemoryStream> _buffers = new();
    private readonly Stack<ByteArrayColumnWriter[]> _columnWriters = new();
    private PartLayout? _layout;
    private RowGroupPart? _current;
    private int _lastPartLength;
    private bool _closed;

    /// <summary>
    /// True: once a batch's rows are encoded (compressed into the row group's own page buffers), nothing reads
    /// its memory again, so the engine may reuse it. The only array Arrow C++ keeps is a column's dictionary (to
    /// compare with the next batch's), and that is this sink's own immutable copy.
    /// </summary>
    public bool ReleasesBatchMemory => true;

    /// <inheritdoc />
    public Task StartAsync(Schema schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        _ = s_pool.Value; // before any other call into Arrow C++ (see s_pool)
        _schema = WithTagTypes(schema);
        _layout = new PartLayout(_schema, _options.Compression == ParquetCompression.Zstd ? [.. _options.SinkEncodedColumns] : []);
        _properties = BuildWriterProperties(_schema);
        _arrowProperties = ArrowProperties(_options.UseThreads);

        // The footer's template: a file of this schema and these properties with no rows.
        using (var empty = new MemoryStream())
        {
            using (var writer = new FileWriter(empty, _schema, _properties, _arrowProperties, leaveOpen: true))
            {
                writer.Close();
            }

            _template = empty.ToArray();
        }

        _stitcher = new ParquetStitcher(stream);
        _stitcher.WriteHeader();
        return Task.CompletedTask;
    }

    /// <summary>
    /// With two or more workers: encode row groups in the background on the run's scheduler, up to one per
    /// worker at a time, and hand each batch back once its rows are encoded.
    /// </summary>
    public bool Attach(SinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Workers < 2)
        {
            return false;
        }

        _context = context;
        _held = new SemaphoreSlim(2 * MaxPartsInFlight);
        // Parallel across row groups instead of across one row group's columns: each writer on one thread.
        _arrowProperties?.Dispose();
        _arrowProperties = ArrowProperties(useThreads: false);
        return true;
    }

    /// <inheritdoc />
    public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        _ = Stitcher; // started, and not complete yet

        await WriteFinishedPartsAsync(wait: false).ConfigureAwait(false);
        if (_held is not null)
        {
            await _held.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        // Cut the batch where row groups end; the last slice to be encoded hands the batch back.
        RecordBatch exported = WithManagedDictionaries(batch);
        var ticket = new BatchTicket(batch, Released);
        for (int offset = 0; offset < batch.Length;)
        {
            RowGroupPart part = _current ??= await OpenPartAsync().ConfigureAwait(false);
            int length = Math.Min(batch.Length - offset, _options.RowGroupSize - part.Rows);
            ticket.AddSlice();
            part.Add(offset == 0 && length == batch.Length ? exported : exported.Slice(offset, length), ticket);
            part.Rows += length;
            offset += length;
            if (part.Rows == _options.RowGroupSize)
            {
                part.Seal();
                _current = null;
            }
        }

        ticket.SliceDone();
    }

    /// <inheritdoc />
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ParquetStitcher stitcher = Stitcher;

        _current?.Seal();
        _current = null;
        await WriteFinishedPartsAsync(wait: true).ConfigureAwait(false);
        stitcher.Finish(_template!);
        _closed = true;
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // After a failure the file is incomplete (no footer); the output target deletes it. Writers still encoding
        // finish (or stop, on cancellation) before they are freed; a row group not sealed is not finished.
        _current = null;
        while (_parts.TryDequeue(out RowGroupPart? part))
        {
            await part.DisposeAsync().ConfigureAwait(false);
            _columnWriters.Push(part.Columns); // no worker uses them any more
        }

        while (_columnWriters.TryPop(out ByteArrayColumnWriter[]? writers))
        {
            foreach (ByteArrayColumnWriter writer in writers)
            {
                writer.Dispose();
            }
        }

        _arrowProperties?.Dispose();
        _properties?.Dispose();
        _held?.Dispose();
        if (!leaveOpen)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The JSON written under <see cref="TagTypesKey"/> for <paramref name="schema"/>: <c>{}</c> when it has no tag children.</summary>
    public static string TagTypesJson(Schema schema) =>
        TagChildrenJson(schema, child => child.Metadata?.GetValueOrDefault(BamColumns.SamTypeKey) ?? BamColumns.MixedType);

    /// <summary>The JSON written under <see cref="TagNamesKey"/> for <paramref name="schema"/>: <c>{}</c> when it has no tag children.</summary>
    public static string TagNamesJson(Schema schema) =>
        TagChildrenJson(schema, child => child.Metadata?.GetValueOrDefault(BamColumns.SamTagKey) ?? child.Name);

    /// <summary>A JSON object from each child of the tags struct to <paramref name="value"/> of it, in column order.</summary>
    private static string TagChildrenJson(Schema schema, Func<Field, string> value)
    {
        ArgumentNullException.ThrowIfNull(schema);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (schema.GetFieldIndex(BamColumns.Tags, StringComparer.Ordinal) >= 0 && schema.GetFieldByName(BamColumns.Tags).DataType is StructType tags)
            {
                foreach (Field child in tags.Fields)
                {
                    json.WriteString(child.Name, value(child));
                }
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// The batch with every dictionary column's dictionary replaced by a copy in managed memory. The C data
    /// interface export takes over (and frees with the exported batch) any buffer in Arrow's native memory, and
    /// the engine's reference dictionary, built once and shared by every batch, lives there: exporting it as it is
    /// would free it with the first batch and crash on the second. Managed memory is only pinned while exported.
    /// The result shares everything else with <paramref name="batch"/>, which the engine still owns and disposes.
    /// </summary>
    private RecordBatch WithManagedDictionaries(RecordBatch batch)
    {
        IArrowArray[]? columns = null;
        for (int i = 0; i < batch.ColumnCount; i++)
        {
            if (batch.Column(i) is DictionaryArray dictionary)
            {
                if (!_managedDictionaries.TryGetValue(dictionary.Dictionary, out IArrowArray? managed))
                {
                    managed = ArrowArrayFactory.BuildArray(ManagedCopy(dictionary.Dictionary.Data));
                    _managedDictionaries.Add(dictionary.Dictionary, managed);
                }

                columns ??= [.. batch.Arrays];
                columns[i] = new DictionaryArray((DictionaryType)dictionary.Data.DataType, dictionary.Indices, managed);
            }
        }

        return columns is null ? batch : new RecordBatch(batch.Schema, columns, batch.Length);
    }

    private static ArrayData ManagedCopy(ArrayData data) => new(
        data.DataType,
        data.Length,
        data.NullCount,
        data.Offset,
        [.. data.Buffers.Select(b => b.IsEmpty ? ArrowBuffer.Empty : new ArrowBuffer(b.Span.ToArray()))],
        data.Children?.Select(ManagedCopy),
        data.Dictionary is null ? null : ManagedCopy(data.Dictionary));

    private ParquetStitcher Stitcher => _closed || _stitcher is null ? throw new InvalidOperationException("the sink is not started, or already complete") : _stitcher;

    private static ArrowWriterProperties ArrowProperties(bool useThreads) =>
        new ArrowWriterPropertiesBuilder().StoreSchema().UseThreads(useThreads).Build();

    private static Schema WithTagTypes(Schema schema)
    {
        var metadata = new Dictionary<string, string>(schema.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [TagTypesKey] = TagTypesJson(schema),
            [TagNamesKey] = TagNamesJson(schema),
        };
        return new Schema(schema.FieldsList, metadata);
    }

    private static readonly Lazy<MemoryPool> s_pool = new(() =>
    {
        if (AddressSpace.Limit is not null)
        {
            // Under a virtual memory limit (ulimit -v), the system allocator, also for what Arrow C++ allocates from
            // its default pool (read from the environment at its first use): jemalloc reserves extents of up to a
            // GiB of address space at a time and aborts the process when it cannot start its background threads;
            // malloc fails one allocation, which ends the run with an error instead.
            _ = SetEnv("ARROW_DEFAULT_MEMORY_POOL", "system", overwrite: 0);
            return MemoryPool.SystemMemoryPool();
        }

        try
        {
            return MemoryPool.JemallocMemoryPool();
        }
        catch (ParquetException)
        {
            return MemoryPool.GetDefaultMemoryPool(); // a build of Arrow C++ without jemalloc (Windows)
        }
    });

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    private static readonly string[] s_noStatistics = [BamColumns.QName, BamColumns.Cigar, BamColumns.Seq, BamColumns.Qual, BamColumns.TagsOther];

    /// <summary>
    /// Row groups encoded at once: one per worker, at most 8 (each holds its encoded pages in memory until it is
    /// complete).
    /// </summary>
    private int MaxPartsInFlight => Math.Clamp(_context?.Workers ?? 1, 1, 8);

    private async Task<RowGroupPart> OpenPartAsync()
    {
        // One row group per worker in flight: wait for the oldest (and write it out) before opening another.
        while (_parts.Count >= MaxPartsInFlight)
        {
            await WriteOldestPartAsync().ConfigureAwait(false);
        }

        MemoryStream buffer = _buffers.Count > 0 ? _buffers.Pop() : new MemoryStream(_lastPartLength + (_lastPartLength >> 3));
        ByteArrayColumnWriter[] columns = _columnWriters.Count > 0 ? _columnWriters.Pop() : _layout!.CreateWriters();
        var part = new RowGroupPart(buffer, _layout!, columns, _properties!, _arrowProperties!, _context);
        _parts.Enqueue(part);
        return part;
    }

    /// <summary>Writes out the parts at the front that are complete (<paramref name="wait"/>: all of them, waiting for each).</summary>
    private async Task WriteFinishedPartsAsync(bool wait)
    {
        while (_parts.TryPeek(out RowGroupPart? oldest) && oldest != _current && (wait || oldest.Encoded.IsCompleted))
        {
            await WriteOldestPartAsync().ConfigureAwait(false);
        }
    }

    private async Task WriteOldestPartAsync()
    {
        RowGroupPart oldest = _parts.Peek();
        oldest.Seal();
        EncodedPart encoded = await oldest.Encoded.ConfigureAwait(false);
        _parts.Dequeue();
        _lastPartLength = encoded.File.Count;
        try
        {
            _stitcher!.Append(encoded.File, encoded.Columns);
        }
        finally
        {
            await oldest.DisposeAsync().ConfigureAwait(false);
        }

        // The next part reuses this one's buffers (a row group's bytes: ~10 MB of LOH per part otherwise).
        oldest.Buffer.SetLength(0);
        _buffers.Push(oldest.Buffer);
        _columnWriters.Push(oldest.Columns);
    }

    private void Released(RecordBatch batch)
    {
        if (_context is not null)
        {
            _held!.Release();
            _context.Release(batch);
        }
    }

    private WriterProperties BuildWriterProperties(Schema schema)
    {
        using var builder = new WriterPropertiesBuilder();
        builder
            .Compression(_options.Compression switch
            {
                ParquetCompression.Snappy => Compression.Snappy,
                ParquetCompression.Zstd => Compression.Zstd,
                _ => Compression.Uncompressed,
            })
            .MaxRowGroupLength(_options.RowGroupSize)
            // jemalloc where Arrow C++ has it: the default pool of ParquetSharp's build is mimalloc, which kept 90 MB
            // more at the same CPU (benchmark BAM, 2 workers: 331 against 242 MB peak RSS, 2.34 and 2.35 CPU-s; the
            // system allocator 2.50 CPU-s).
            .MemoryPool(s_pool.Value)
            .DisableDictionary()
            .CreatedBy($"bamflow {BamArrowSchema.Version} (ParquetSharp)");
        if (_options.Compression == ParquetCompression.Zstd)
        {
            builder.CompressionLevel(ParquetSinkOptions.DefaultZstdLevel);
        }

        // Min/max statistics of long free-text columns cost string comparisons on every value and help no reader
        // (nobody filters reads by the smallest SEQ); numeric and reference columns keep theirs for pruning.
        foreach (string column in s_noStatistics)
        {
            if (HasColumn(schema, column))
            {
                builder.DisableStatistics(column);
            }
        }

        foreach (string column in _options.DictionaryColumns)
        {
            if (HasColumn(schema, column))
            {
                builder.EnableDictionary(column);
            }
        }

        return builder.Build();
    }

    private static bool HasColumn(Schema schema, string path)
    {
        string[] parts = path.Split('.');
        if (schema.GetFieldIndex(parts[0], StringComparer.Ordinal) < 0)
        {
            return false;
        }

        IArrowType type = schema.GetFieldByName(parts[0]).DataType;
        return parts.Length == 1 || (type is StructType children && children.GetFieldIndex(parts[1], StringComparer.Ordinal) >= 0 && parts.Length == 2);
    }
}
