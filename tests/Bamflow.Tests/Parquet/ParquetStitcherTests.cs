using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Parquet;
using Bamflow.Tests.Support;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Bamflow.Tests.Parquet;

/// <summary>
/// The footer codec and the stitcher that join row groups encoded by separate writers into one file, checked
/// against Arrow C++'s own footers (byte for byte) and read back by DuckDB and by ParquetSharp's reader.
/// </summary>
public sealed class ParquetStitcherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-stitch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void ThriftStruct_ReadThenWrite_GivesArrowsFooterBackByteForByte(int rowGroups)
    {
        byte[] file = Part(rowGroups, rowsPerGroup: 5, first: 0);
        ReadOnlySpan<byte> footer = Footer(file);

        Assert.True(footer.SequenceEqual(ThriftStruct.Read(footer).ToArray()));
    }

    [Fact]
    public void ThriftStruct_TruncatedFooter_IsInvalidData()
    {
        byte[] footer = Footer(Part(2, rowsPerGroup: 5, first: 0)).ToArray();
        for (int length = 0; length < footer.Length; length += Math.Max(1, footer.Length / 50))
        {
            byte[] cut = footer[..length];
            Assert.Throws<InvalidDataException>(() => ThriftStruct.Read(cut));
        }
    }

    [Fact]
    public void ThriftStruct_NestingBeyondTheLimit_IsInvalidData()
    {
        // Field 1 of type struct (0x1C), nested 100 deep: a hostile footer must not overflow the stack.
        byte[] nested = [.. Enumerable.Repeat((byte)0x1C, 100), .. Enumerable.Repeat((byte)0, 101)];
        Assert.Throws<InvalidDataException>(() => ThriftStruct.Read(nested));
    }

    [Fact]
    public async Task Stitcher_PartsOfOneSchema_ReadAsOneFileWithEveryRowInOrder()
    {
        // Three parts of 2, 0 and 3 row groups, rows numbered across them.
        byte[][] parts = [Part(2, rowsPerGroup: 4, first: 0), Part(0, rowsPerGroup: 4, first: 8), Part(3, rowsPerGroup: 5, first: 8)];
        string path = Path.Combine(_dir, "stitched.parquet");
        using (var output = File.Create(path))
        {
            var stitcher = new ParquetStitcher(output);
            stitcher.WriteHeader();
            foreach (byte[] part in parts)
            {
                stitcher.Append(part);
            }

            stitcher.Finish(Part(0, rowsPerGroup: 1, first: 0));
            Assert.Equal(23, stitcher.Rows);
        }

        Assert.Equal([4L, 4, 5, 5, 5], ParquetSam.RowGroups(path).Select(g => g.Rows));
        using var reader = new FileReader(path);
        var values = new List<long>();
        using var batches = reader.GetRecordBatchReader();
        while (await batches.ReadNextRecordBatchAsync(TestContext.Current.CancellationToken) is { } batch)
        {
            using (batch)
            {
                var column = (Int64Array)batch.Column("n");
                var text = (StringArray)batch.Column("s");
                for (int i = 0; i < batch.Length; i++)
                {
                    values.Add(column.GetValue(i)!.Value);
                    Assert.Equal($"row {column.GetValue(i)}", text.GetString(i));
                }
            }
        }

        Assert.Equal(Enumerable.Range(0, 23).Select(i => (long)i), values);
    }

    [Fact]
    public void Stitcher_NotParquet_IsInvalidData()
    {
        var stitcher = new ParquetStitcher(Stream.Null);
        stitcher.WriteHeader();
        Assert.Throws<InvalidDataException>(() => stitcher.Append("PAR1 but no footer"u8));
        Assert.Throws<InvalidDataException>(() => stitcher.Append([.. "PAR1"u8, .. new byte[8], .. "PAR1"u8]));
    }

    /// <summary>A Parquet file written by Arrow C++: <paramref name="rowGroups"/> groups of consecutive numbers from <paramref name="first"/>, with a text column.</summary>
    private static byte[] Part(int rowGroups, int rowsPerGroup, long first)
    {
        var schema = new Schema([new Field("n", Int64Type.Default, nullable: false), new Field("s", StringType.Default, nullable: true)], null);
        using var buffer = new MemoryStream();
        using (var properties = new WriterPropertiesBuilder().Compression(Compression.Zstd).Build())
        using (var writer = new FileWriter(buffer, schema, properties, leaveOpen: true))
        {
            for (int g = 0; g < rowGroups; g++)
            {
                long start = first + ((long)g * rowsPerGroup);
                var numbers = new Int64Array.Builder();
                var text = new StringArray.Builder();
                for (long n = start; n < start + rowsPerGroup; n++)
                {
                    numbers.Append(n);
                    text.Append($"row {n}");
                }

                writer.WriteRecordBatch(new RecordBatch(schema, [numbers.Build(), text.Build()], rowsPerGroup));
            }

            writer.Close();
        }

        return buffer.ToArray();
    }

    private static ReadOnlySpan<byte> Footer(byte[] file)
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(file.Length - 8));
        return file.AsSpan(file.Length - 8 - length, length);
    }
}
