using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Parquet;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Parquet;

/// <summary>
/// Columns whose chunks the sink writes itself (<see cref="ByteArrayColumnWriter"/>: DELTA_LENGTH_BYTE_ARRAY values in
/// zstd frames, by zstd's compressor or the entropy coder), read back by two independent Parquet readers, DuckDB and Arrow C++ (through
/// ParquetSharp), and compared value by value with what was written: nulls anywhere, empty strings, slices that start
/// inside a bitmap byte, values larger than a page, pages cut by rows, null slots that still hold bytes.
/// </summary>
public sealed class SinkEncodedColumnTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-entropy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, bool> Cases() => new()
    {
        { "qualities", false }, { "qualities", true },
        { "nulls everywhere", false }, { "nulls everywhere", true },
        { "all null", false },
        { "empty strings", false },
        { "long values (2 MiB)", false }, { "long values (2 MiB)", true },
        { "bytes >= 128 (UTF-8)", false },
        { "many short rows (pages cut by rows)", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task OwnColumn_ReadByDuckDbAndArrow_EqualsWhatWasWritten(string name, bool qualFirst)
    {
        string?[] values = Values(name);
        string path = Path.Combine(_dir, "out.parquet");
        // Batches of 1,000 rows into row groups of 777: slices start at odd rows, inside a validity byte.
        await WriteAsync(path, values, batchRows: 1000, rowGroupRows: 777, qualFirst);

        Assert.Equal(values, DuckDbColumn(path, "qual"));
        Assert.Equal(values, ArrowColumn(path, "qual"));
        Assert.Equal(Enumerable.Range(0, values.Length).Select(i => $"r{i}"), DuckDbColumn(path, "name"));
        Assert.All(ParquetSam.RowGroups(path), g => Assert.Contains("DELTA_LENGTH_BYTE_ARRAY", g.Encodings["qual"], StringComparison.Ordinal));
        AssertOffsetIndexesPointAtPages(path, qualFirst ? 0 : 1);
    }

    [Fact]
    public async Task OwnColumn_NullSlotsHoldingBytes_AreLeftOut()
    {
        // An array built elsewhere may keep bytes in a null slot: ["abc", null (holding "def"), "gh"].
        var data = new ArrayData(StringType.Default, 3, 1, 0,
            [new ArrowBuffer(new byte[] { 0b101 }), new ArrowBuffer(Ints(0, 3, 6, 8)), new ArrowBuffer("abcdefgh"u8.ToArray())]);
        var qual = new StringArray(data);
        string path = Path.Combine(_dir, "slots.parquet");
        Schema schema = Schema(qualFirst: false);
        await using (FileStream stream = File.Create(path))
        await using (var sink = new ParquetSink(stream))
        {
            await sink.StartAsync(schema, CancellationToken.None);
            await sink.WriteAsync(new RecordBatch(schema, [Names(0, 3), qual, Numbers(0, 3)], 3), CancellationToken.None);
            await sink.CompleteAsync(CancellationToken.None);
        }

        Assert.Equal(["abc", null, "gh"], DuckDbColumn(path, "qual"));
        Assert.Equal(["abc", null, "gh"], ArrowColumn(path, "qual"));
    }

    [Fact]
    public async Task NoSinkEncodedColumns_ArrowWritesQualPlain()
    {
        string?[] values = Values("qualities");
        string path = Path.Combine(_dir, "plain.parquet");
        await WriteAsync(path, values, 1000, 777, qualFirst: false, new ParquetSinkOptions { SinkEncodedColumns = [] });

        Assert.Equal(values, DuckDbColumn(path, "qual"));
        Assert.All(ParquetSam.RowGroups(path), g => Assert.DoesNotContain("DELTA_LENGTH_BYTE_ARRAY", g.Encodings["qual"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task EntropyCodedQualities_SmallerThanArrowsZstd()
    {
        string?[] values = Values("qualities");
        string own = Path.Combine(_dir, "own.parquet"), arrow = Path.Combine(_dir, "arrow.parquet");
        await WriteAsync(own, values, 1000, 50_000, qualFirst: false);
        await WriteAsync(arrow, values, 1000, 50_000, qualFirst: false, new ParquetSinkOptions { SinkEncodedColumns = [] });

        Assert.True(ColumnBytes(own, "qual") < ColumnBytes(arrow, "qual"), $"{ColumnBytes(own, "qual")} vs {ColumnBytes(arrow, "qual")}");
    }

    [Fact]
    public void Writer_ChoosesTheEntropyCoderForQualitiesAndZstdForRepeats()
    {
        // Binned qualities (little beyond their frequencies) and reads drawn from a short "genome" (long repeats).
        var random = new Random(21);
        string genome = new([.. Enumerable.Range(0, 20_000).Select(_ => "ACGT"[random.Next(4)])]);
        string?[] qualities = Values("qualities");
        string?[] reads = [.. Enumerable.Range(0, 40_000).Select(_ => genome.Substring(random.Next(genome.Length - 150), 150))];
        using var qualityWriter = new ByteArrayColumnWriter("qual", 0);
        using var readWriter = new ByteArrayColumnWriter("seq", 0);

        qualityWriter.Add(Strings(qualities));
        readWriter.Add(Strings(reads));

        Assert.True(qualityWriter.PagesByEncoder.Entropy > 0);
        Assert.Equal(0, qualityWriter.PagesByEncoder.Zstd);
        Assert.Equal(0, readWriter.PagesByEncoder.Entropy);
        Assert.True(readWriter.PagesByEncoder.Zstd > 0);
    }

    public static TheoryData<string> GoodFiles => [.. SharedData.CorpusFiles(bad: false)];

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void CorpusFile_SinkEncodedColumns_NoLargerThanArrowsZstd(string name)
    {
        string path = SharedData.CorpusPath(name);
        string own = Path.Combine(_dir, "own.parquet"), arrow = Path.Combine(_dir, "arrow.parquet");
        ParquetSam.Convert(path, own);
        ParquetSam.Convert(path, arrow, sink: new ParquetSinkOptions { SinkEncodedColumns = [] });

        // Each page is written by whichever encoder makes a sample of it smaller: never much larger than Arrow C++'s zstd
        // (a few bytes of page headers and frames on tiny columns, a sample's misjudgement on big ones).
        foreach (string column in new ParquetSinkOptions().SinkEncodedColumns)
        {
            long ownBytes = ColumnBytes(own, column), arrowBytes = ColumnBytes(arrow, column);
            File.AppendAllText(Path.Combine(Path.GetTempPath(), "bamflow-column-sizes.tsv"), $"{name}\t{column}\t{ownBytes}\t{arrowBytes}\t{(double)ownBytes / Math.Max(1, arrowBytes):F3}\n");
            Assert.True(ownBytes <= (arrowBytes * 1.05) + 256, $"{name}: {column} column {ownBytes} bytes, Arrow C++'s zstd {arrowBytes}");
        }

        ArrowSam.AssertSame(ParquetSam.Lines(arrow), ParquetSam.Lines(own), name);
    }

    private static async Task WriteAsync(string path, string?[] values, int batchRows, int rowGroupRows, bool qualFirst, ParquetSinkOptions? options = null)
    {
        Schema schema = Schema(qualFirst);
        options = (options ?? new ParquetSinkOptions()) with { RowGroupSize = rowGroupRows };
        await using FileStream stream = File.Create(path);
        await using var sink = new ParquetSink(stream, options);
        await sink.StartAsync(schema, CancellationToken.None);
        for (int start = 0; start < values.Length; start += batchRows)
        {
            int count = Math.Min(batchRows, values.Length - start);
            var builder = new StringArray.Builder();
            foreach (string? value in values.AsSpan(start, count))
            {
                _ = value is null ? builder.AppendNull() : builder.Append(value);
            }

            IArrowArray qual = builder.Build();
            IArrowArray[] columns = qualFirst ? [qual, Names(start, count), Numbers(start, count)] : [Names(start, count), qual, Numbers(start, count)];
            await sink.WriteAsync(new RecordBatch(schema, columns, count), CancellationToken.None);
        }

        await sink.CompleteAsync(CancellationToken.None);
    }

    private static Schema Schema(bool qualFirst)
    {
        Field name = new("name", StringType.Default, true), qual = new("qual", StringType.Default, true), number = new("n", Int32Type.Default, false);
        return new Schema(qualFirst ? [qual, name, number] : [name, qual, number], null);
    }

    private static StringArray Strings(IEnumerable<string?> values)
    {
        var builder = new StringArray.Builder();
        foreach (string? value in values)
        {
            _ = value is null ? builder.AppendNull() : builder.Append(value);
        }

        return builder.Build();
    }

    private static StringArray Names(int start, int count)
    {
        var builder = new StringArray.Builder();
        for (int i = 0; i < count; i++)
        {
            builder.Append($"r{start + i}");
        }

        return builder.Build();
    }

    private static Int32Array Numbers(int start, int count) => new Int32Array.Builder().AppendRange(Enumerable.Range(start, count)).Build();

    private static byte[] Ints(params int[] values) => [.. values.SelectMany(BitConverter.GetBytes)];

    private static string?[] Values(string name)
    {
        var random = new Random(name.Length);
        string Quality(int length) => new([.. Enumerable.Range(0, length).Select(_ => "#',-5<AFJ"[Math.Min(8, (int)(random.NextDouble() * random.NextDouble() * 12))])]);
        return name switch
        {
            "qualities" => [.. Enumerable.Range(0, 9000).Select(_ => Quality(150))],
            "nulls everywhere" => [.. Enumerable.Range(0, 9000).Select(i => random.Next(3) == 0 || i % 17 == 0 ? null : Quality(random.Next(0, 300)))],
            "all null" => new string?[3000],
            "empty strings" => [.. Enumerable.Range(0, 3000).Select(i => i % 5 == 0 ? null : "")],
            "long values (2 MiB)" => [Quality(100), Quality(2 << 20), null, Quality(3 << 20), Quality(7)],
            "bytes >= 128 (UTF-8)" => [.. Enumerable.Range(0, 5000).Select(i => i % 7 == 0 ? null : $"Zürich-{i}-Ω-{Quality(i % 40)}")],
            "many short rows (pages cut by rows)" => [.. Enumerable.Range(0, 50_000).Select(i => i % 11 == 0 ? null : Quality(3))],
            _ => throw new ArgumentException(name),
        };
    }

    private static List<string?> DuckDbColumn(string path, string column)
    {
        using var connection = ParquetSam.Open();
        return [.. ParquetSam.Query(connection, $"SELECT {column} FROM read_parquet({ParquetSam.Quote(path)}) ORDER BY n").Select(r => (string?)r[0])];
    }

    private static List<string?> ArrowColumn(string path, string column)
    {
        using var reader = new ParquetSharp.Arrow.FileReader(path);
        using var batches = reader.GetRecordBatchReader();
        var values = new List<string?>();
        while (batches.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is { } batch)
        {
            using (batch)
            {
                var array = (StringArray)batch.Column(column);
                for (int i = 0; i < array.Length; i++)
                {
                    values.Add(array.IsNull(i) ? null : array.GetString(i));
                }
            }
        }

        return values;
    }

    private static long ColumnBytes(string path, string column)
    {
        using var connection = ParquetSam.Open();
        return ParquetSam.Query(connection, $"SELECT path_in_schema, total_compressed_size FROM parquet_metadata({ParquetSam.Quote(path)})")
            .Where(r => Convert.ToString(r[0], System.Globalization.CultureInfo.InvariantCulture) == column)
            .Sum(r => Convert.ToInt64(r[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Every page the column's offset indexes list starts with a data page header of that size, rows counted up.</summary>
    private static void AssertOffsetIndexesPointAtPages(string path, int leaf)
    {
        byte[] file = File.ReadAllBytes(path);
        int length = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(file.Length - 8));
        ThriftStruct footer = ThriftStruct.Read(file.AsSpan(file.Length - 8 - length, length));
        long rowsBefore = 0;
        foreach (ThriftStruct group in ((ThriftStruct.ThriftList)footer[4]!).Items.Cast<ThriftStruct>())
        {
            var chunk = (ThriftStruct)((ThriftStruct.ThriftList)group[1]!).Items[leaf];
            var meta = (ThriftStruct)chunk[3]!;
            long offset = (long)chunk[4]!;
            ThriftStruct index = ThriftStruct.Read(file.AsSpan((int)offset, (int)chunk[5]!));
            long expectedAt = (long)meta[9]!, rows = 0, compressed = 0;
            foreach (ThriftStruct page in ((ThriftStruct.ThriftList)index[1]!).Items.Cast<ThriftStruct>())
            {
                Assert.Equal(expectedAt, (long)page[1]!);
                Assert.Equal(rows, (long)page[3]!);
                ThriftStruct header = ThriftStruct.Read(file.AsSpan((int)expectedAt, (int)page[2]!));
                int headerLength = header.ToArray().Length;
                Assert.Equal(0, (int)header[1]!);                                  // DATA_PAGE
                Assert.Equal((int)page[2]! - headerLength, (int)header[3]!);       // compressed_page_size
                rows += (int)((ThriftStruct)header[5]!)[1]!;
                expectedAt += (int)page[2]!;
                compressed += (int)page[2]!;
            }

            Assert.Equal((long)meta[7]!, compressed); // total_compressed_size: every page, headers included
            Assert.Equal((long)group[3]!, rows);
            rowsBefore += rows;
        }

        Assert.Equal((long)footer[3]!, rowsBefore);
    }
}
