using BenchmarkDotNet.Attributes;
using Bamflow.Bam;

namespace Bamflow.Benchmarks.Bam;

/// <summary>
/// Walking <see cref="BenchmarkInput.RecordCount"/> records in an inflated buffer and decoding every field
/// (name, CIGAR text, SEQ, QUAL+33, every tag's value); per operation = per record.
/// Bamflow: the validated <see cref="BamRecord"/> view, decoders writing into buffers reused for every record.
/// Baseline: a <see cref="BinaryReader"/>, a new object, new strings and a tag dictionary per record.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("RecordDecode")]
public class RecordDecodeBenchmarks
{
    private BenchmarkInput? _input;
    private byte[] _cigar = new byte[1024];
    private byte[] _sequence = new byte[1024];
    private byte[] _quality = new byte[1024];

    /// <summary>Loads the records.</summary>
    [GlobalSetup]
    public void Setup() => _input = BenchmarkInput.Load();

    /// <summary>Naive: BinaryReader, and a new record object with new strings and a tag dictionary per record.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long BinaryReaderStrings()
    {
        using var reader = new BinaryReader(new MemoryStream(_input!.Records, writable: false));
        long checksum = 0;
        while (NaiveDecoder.Read(reader) is { } record)
        {
            checksum = record.Checksum(checksum);
        }

        return checksum;
    }

    /// <summary>Bamflow: the record view and its decoders, into reused buffers.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkInput.RecordCount)]
    public long RecordView()
    {
        ReadOnlySpan<byte> data = _input!.Records;
        int referenceCount = _input.Header.References.Count;
        int offset = 0;
        long checksum = 0;
        while (BenchmarkInput.NextRecord(data, ref offset, referenceCount, out BamRecord record))
        {
            checksum = Decode(record, checksum);
        }

        return checksum;
    }

    private long Decode(BamRecord record, long hash)
    {
        hash = Checksum.Mix(hash, record.Flag);
        hash = Checksum.Mix(hash, record.ReferenceId);
        hash = Checksum.Mix(hash, record.Position);
        hash = Checksum.Mix(hash, record.MappingQuality);
        hash = Checksum.Mix(hash, record.MateReferenceId);
        hash = Checksum.Mix(hash, record.MatePosition);
        hash = Checksum.Mix(hash, record.TemplateLength);
        hash = Checksum.Mix(hash, record.ReadName);

        ReadOnlySpan<byte> cigar = record.Cigar;
        if (cigar.IsEmpty)
        {
            hash = Checksum.Mix(hash, "*"u8);
        }
        else
        {
            EnsureCapacity(ref _cigar, CigarDecoder.TextLength(cigar));
            hash = Checksum.Mix(hash, _cigar.AsSpan(0, CigarDecoder.Format(cigar, _cigar)));
        }

        int length = record.SequenceLength;
        if (length == 0)
        {
            hash = Checksum.Mix(Checksum.Mix(hash, "*"u8), "*"u8);
        }
        else
        {
            EnsureCapacity(ref _sequence, length);
            SequenceDecoder.Decode(record.PackedSequence, length, _sequence);
            hash = Checksum.Mix(hash, _sequence.AsSpan(0, length));
            if (record.HasQuality)
            {
                EnsureCapacity(ref _quality, length);
                QualityDecoder.ToPhred33(record.Quality, _quality);
                hash = Checksum.Mix(hash, _quality.AsSpan(0, length));
            }
            else
            {
                hash = Checksum.Mix(hash, "*"u8);
            }
        }

        int count = 0;
        long tags = 0; // order-independent, as the baseline's dictionary
        foreach (AuxField field in record.AuxFields)
        {
            count++;
            tags += Checksum.Mix(Checksum.Mix(Checksum.Mix(0, field.Tag[0]), field.Tag[1]), ValueSummary(field));
        }

        return Checksum.Mix(Checksum.Mix(hash, count), tags);
    }

    private static long ValueSummary(AuxField field)
    {
        switch (field.Type)
        {
            case (byte)'A':
                return field.Value[0];
            case (byte)'f':
                return BitConverter.SingleToInt32Bits(field.GetSingle());
            case (byte)'Z' or (byte)'H':
                return Checksum.Mix(0, field.Value);
            case (byte)'B':
                long sum = 0;
                for (int i = 0; i < field.ArrayCount; i++)
                {
                    sum += field.ArraySubtype == (byte)'f' ? BitConverter.SingleToInt32Bits(field.GetArraySingle(i)) : field.GetArrayInt64(i);
                }

                return Checksum.Mix(field.ArrayCount, sum);
            default:
                return field.GetInt64();
        }
    }

    private static void EnsureCapacity(ref byte[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }
    }
}
