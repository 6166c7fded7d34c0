using System.Buffers.Binary;
using Bamflow.Bgzf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bamflow.Bam;

/// <summary>
/// Reads a BAM file sequentially: the header when opened, then one record at a time into a buffer it owns and
/// reuses, so reading allocates nothing per record. Memory grows only with data actually read, never with
/// what a length field claims.
/// </summary>
public sealed partial class BamReader : IDisposable
{
    private const int InitialRecordBuffer = 64 * 1024;

    private readonly BgzfReader _bgzf;
    private readonly ILogger _logger;
    private readonly int _referenceCount;
    private byte[] _record = new byte[InitialRecordBuffer];
    private bool _endReported;
    private int _maxRecordSize = BamRecordFraming.DefaultMaxRecordSize;

    /// <summary>Reads BAM data from <paramref name="stream"/> and decodes its header.</summary>
    /// <param name="stream">The BGZF-compressed BAM input, at its start.</param>
    /// <param name="fileName">Name used in errors and warnings ("-" for standard input).</param>
    /// <param name="logger">Receives warnings (a missing EOF marker block); none by default.</param>
    /// <param name="inflater">The inflater to use; by default the best available, owned by this reader.</param>
    /// <param name="leaveOpen">Whether disposing this reader leaves the stream open.</param>
    /// <exception cref="BamFormatException">The input is not a BAM file, or its header is malformed.</exception>
    public BamReader(Stream stream, string? fileName = null, ILogger? logger = null, IBgzfInflater? inflater = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek && stream.Position == 0)
        {
            // A file: name its format if it is not BGZF (CRAM, SAM, plain gzip, …), then read it from the start again.
            try
            {
                CheckFormat(stream, fileName);
            }
            catch
            {
                if (!leaveOpen)
                {
                    stream.Dispose();
                }

                throw;
            }
        }

        _bgzf = new BgzfReader(stream, fileName, inflater, leaveOpen);
        _logger = logger ?? NullLogger.Instance;
        try
        {
            Header = ReadHeader();
        }
        catch
        {
            _bgzf.Dispose();
            throw;
        }

        _referenceCount = Header.References.Count;
    }

    /// <summary>Opens the BAM file at <paramref name="path"/> ("-" reads standard input).</summary>
    /// <exception cref="UnsupportedInputException">The path is a directory, or the file is not BAM (its format is named).</exception>
    public static BamReader Open(string path, ILogger? logger = null, IBgzfInflater? inflater = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path != "-" && Directory.Exists(path))
        {
            throw UnsupportedInputException.For(InputFormat.Directory, path);
        }

        Stream stream = path == "-"
            ? SniffedStandardInput()
            : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new BamReader(stream, path, logger, inflater);
    }

    /// <summary>Throws <see cref="UnsupportedInputException"/> when the stream's first bytes are not BGZF; leaves it at its start.</summary>
    private static void CheckFormat(Stream stream, string? fileName)
    {
        byte[] head = new byte[InputFormatSniffer.HeadLength];
        int length = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        CheckFormat(head.AsSpan(0, length), fileName);
    }

    private static void CheckFormat(ReadOnlySpan<byte> head, string? fileName)
    {
        InputFormat format = InputFormatSniffer.Detect(head);
        if (format is not (InputFormat.Bgzf or InputFormat.Empty)) // an empty input: the header reader says so
        {
            throw UnsupportedInputException.For(format, fileName, format is InputFormat.Gzip ? InputFormatSniffer.DetectInsideGzip(head) : InputFormat.Unknown);
        }
    }

    /// <summary>
    /// Standard input, its format checked from the bytes of its first reads (at least a BGZF header's worth, or up to
    /// its end), which are then read again in front of the rest.
    /// </summary>
    private static Stream SniffedStandardInput()
    {
        const int BgzfHeaderLength = 18; // SAMv1 §4.1: the fixed gzip header and the BC subfield
        Stream stdin = Console.OpenStandardInput();
        try
        {
            byte[] head = new byte[InputFormatSniffer.HeadLength];
            int length = stdin.ReadAtLeast(head, BgzfHeaderLength, throwOnEndOfStream: false);
            CheckFormat(head.AsSpan(0, length), "-");
            return new PrefixedStream(head, length, stdin);
        }
        catch
        {
            stdin.Dispose();
            throw;
        }
    }

    /// <summary>The decoded header.</summary>
    public BamHeader Header { get; }

    /// <summary>Name used in errors and warnings.</summary>
    public string? FileName => _bgzf.FileName;

    /// <summary>
    /// The largest block_size accepted (default <see cref="BamRecordFraming.DefaultMaxRecordSize"/>, 64 MiB): a record
    /// claiming more fails with <see cref="BamRecordError.BlockSizeTooLarge"/> before anything is read, here and in the
    /// engine reading this reader. Set it before the first record is read.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below <see cref="BamRecordFraming.MinBlockSize"/> or above <see cref="BamRecordFraming.MaxRecordSizeLimit"/>.</exception>
    public int MaxRecordSize
    {
        get => _maxRecordSize;
        set
        {
            BamRecordFraming.ValidateMaxRecordSize(value);
            _maxRecordSize = value;
        }
    }

    /// <summary>Number of records read so far (the zero-based index of the next one).</summary>
    public long RecordCount { get; private set; }

    /// <summary>Virtual position of the next record.</summary>
    public VirtualPosition Position => _bgzf.Position;

    /// <summary>Told of every BGZF block as it is read (empty ones included), before its bytes are handed out.</summary>
    public Action<BgzfFrame>? FrameRead
    {
        get => _bgzf.FrameRead;
        set => _bgzf.FrameRead = value;
    }

    /// <summary>Bytes of compressed input consumed so far.</summary>
    public long CompressedBytesRead => _bgzf.CompressedBytesRead;

    /// <summary>True once all records were read and the file lacked the BGZF EOF marker block (probably truncated).</summary>
    public bool MissingEofMarker => _bgzf.MissingEofMarker;

    /// <summary>
    /// Reads the next record. The view stays valid until the next call. Returns false at the end of the file.
    /// </summary>
    /// <exception cref="BamFormatException">The record or its BGZF block is malformed, or the file ends inside it.</exception>
    public bool TryRead(out BamRecord record)
    {
        VirtualPosition position = _bgzf.Position;
        if (!TryReadBytes(out ReadOnlySpan<byte> data))
        {
            record = default;
            return false;
        }

        BamRecordError error = BamRecord.TryCreate(data, _referenceCount, out record);
        if (error != BamRecordError.None)
        {
            throw BamRecordFormatException.Invalid(error, data, _referenceCount, FileName, RecordCount - 1, position);
        }

        return true;
    }

    /// <summary>
    /// Reads the next record's bytes (after its block_size) without looking inside them: only the framing is
    /// checked, so a record whose fields are invalid can still be stepped over. Valid until the next call.
    /// Returns false at the end of the file.
    /// </summary>
    /// <exception cref="BamFormatException">The framing or the BGZF block is malformed, or the file ends inside the record.</exception>
    public bool TryReadBytes(out ReadOnlySpan<byte> data)
    {
        VirtualPosition position = _bgzf.Position;
        Span<byte> sizeBytes = stackalloc byte[4];
        int got = _bgzf.Read(sizeBytes);
        if (got == 0)
        {
            ReportEnd();
            data = default;
            return false;
        }

        if (got < 4)
        {
            throw RecordError(BamRecordError.Truncated, position, $"file ends inside a record's block_size ({got} of 4 bytes)");
        }

        int blockSize = BinaryPrimitives.ReadInt32LittleEndian(sizeBytes);
        if (BamRecordFraming.Check(blockSize, _maxRecordSize, FileName, RecordCount, position) is { } framingError)
        {
            throw framingError;
        }

        data = ReadBlock(blockSize, position);
        RecordCount++;
        return true;
    }

    /// <summary>
    /// Hands the records' bytes over to another reader (the parallel engine) before any record was read here:
    /// the inflated bytes already buffered and the BGZF frames that follow. This reader is unusable afterwards.
    /// </summary>
    internal BgzfRemainder DetachBody()
    {
        if (RecordCount != 0)
        {
            throw new InvalidOperationException("records were already read from this reader");
        }

        return _bgzf.Detach();
    }

    /// <summary>Reads <paramref name="size"/> bytes (at most the record size limit), growing the buffer only as data actually arrives.</summary>
    private ReadOnlySpan<byte> ReadBlock(int size, VirtualPosition position)
    {
        int filled = 0;
        while (filled < size)
        {
            if (filled == _record.Length)
            {
                int grown = (int)Math.Min((long)_record.Length * 2, size);
                Array.Resize(ref _record, grown);
            }

            int want = Math.Min(size, _record.Length) - filled;
            int got = _bgzf.Read(_record.AsSpan(filled, want));
            filled += got;
            if (got < want)
            {
                throw RecordError(BamRecordError.Truncated, position, $"file ends inside a record: block_size is {size} but only {filled} bytes follow");
            }
        }

        return _record.AsSpan(0, size);
    }

    private void ReportEnd()
    {
        if (_endReported)
        {
            return;
        }

        _endReported = true;
        if (_bgzf.MissingEofMarker)
        {
            LogMissingEof(_logger, FileName ?? "input");
        }
    }

    private BamRecordFormatException RecordError(BamRecordError error, VirtualPosition position, string message) =>
        new(error, message, FileName, RecordCount, position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{File}: EOF marker is absent. The input is probably truncated")]
    private static partial void LogMissingEof(ILogger logger, string file);

    /// <inheritdoc />
    public void Dispose() => _bgzf.Dispose();
}
