using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using Bamflow.Dataflow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Bamflow.Parquet;

/// <summary>
/// Writes the pipeline's batches as one Parquet file, through ParquetSharp's Arrow writer (Arrow C++'s own Parquet
/// writer, fed the batches over the Arrow C data interface). The Arrow schema is stored in the file, so Arrow
/// readers get the dictionary types and field metadata back; the schema metadata becomes the file's key-value
/// metadata, plus <see cref="TagTypesKey"/> for readers that do not surface field metadata.
/// </summary>
/// <remarks>
/// Parquet is written strictly front to back (the footer last), so <paramref name="stream"/> need not be
/// seekable; it must report its <see cref="Stream.Position"/> (as <see cref="CountingStream"/> does for pipes).
/// </remarks>
public sealed class ParquetSink(Stream stream, ParquetSinkOptions? options = null, bool leaveOpen = true) : IRecordBatchSink
{
    /// <summary>Key-value metadata key: a JSON object from each tag child's name to its SAM type (<c>{"NM":"i","ML":"B:C"}</c>).</summary>
    public const string TagTypesKey = "sam.tag_types";

    private readonly ParquetSinkOptions _options = options ?? new ParquetSinkOptions();
    private readonly RecordingStream _stream = new(stream);
    private readonly Dictionary<IArrowArray, IArrowArray> _managedDictionaries = new(ReferenceEqualityComparer.Instance);
    private FileWriter? _writer;
    private bool _closed;

    /// <summary>
    /// True: Arrow C++ encodes and compresses a batch's values into its own page buffers before
    /// <see cref="WriteAsync"/> returns. The only array it reads again later is a column's dictionary (kept until
    /// the row group ends, to compare with the next batch's), and that is this sink's own immutable copy. (Keeping
    /// it keeps the rest of that exported batch pinned too, but nothing reads those buffers again, so the engine
    /// may reuse them.)
    /// </summary>
    public bool ReleasesBatchMemory => true;

    /// <inheritdoc />
    public Task StartAsync(Schema schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        Schema stored = WithTagTypes(schema);

        using WriterProperties properties = BuildWriterProperties(stored);
        using ArrowWriterProperties arrowProperties = new ArrowWriterPropertiesBuilder()
            .StoreSchema()
            .UseThreads(_options.UseThreads)
            .Build();
        _writer = new FileWriter(_stream, stored, properties, arrowProperties, leaveOpen: true);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        Native(() => Writer.WriteBufferedRecordBatch(WithManagedDictionaries(batch)));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Native(Writer.Close); // the last row group and the footer
        _closed = true;
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        // After a failure the file is incomplete (no footer); the output target deletes it.
        _writer?.Dispose();
        _writer = null;
        if (!leaveOpen)
        {
            stream.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The JSON written under <see cref="TagTypesKey"/> for <paramref name="schema"/>: <c>{}</c> when it has no tag children.</summary>
    public static string TagTypesJson(Schema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (schema.GetFieldIndex(BamColumns.Tags, StringComparer.Ordinal) >= 0 && schema.GetFieldByName(BamColumns.Tags).DataType is StructType tags)
            {
                foreach (Field tag in tags.Fields)
                {
                    json.WriteString(tag.Name, tag.Metadata?.GetValueOrDefault(BamColumns.SamTypeKey) ?? BamColumns.MixedType);
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

    /// <summary>Runs a writer call; a failure that began as the stream's own exception is rethrown as that exception.</summary>
    private void Native(Action write)
    {
        try
        {
            write();
        }
        catch (ParquetException)
        {
            _stream.ThrowIfFailed();
            throw;
        }
    }

    private FileWriter Writer => _closed || _writer is null ? throw new InvalidOperationException("the sink is not started, or already complete") : _writer;

    private static Schema WithTagTypes(Schema schema)
    {
        var metadata = new Dictionary<string, string>(schema.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [TagTypesKey] = TagTypesJson(schema),
        };
        return new Schema(schema.FieldsList, metadata);
    }

    // The system allocator (malloc) rather than Arrow's default (jemalloc): jemalloc hands the pages of each
    // finished row group back to the kernel and faults fresh zeroed ones in for the next, which cost about a
    // CPU-second of kernel time on the 2M-record benchmark BAM (perf: clear_page_erms at 15% of samples).
    private static readonly string[] s_noStatistics = [BamColumns.QName, BamColumns.Cigar, BamColumns.Seq, BamColumns.Qual, BamColumns.TagsOther];

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
            .MemoryPool(MemoryPool.SystemMemoryPool()) // see the note on s_noStatistics
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
