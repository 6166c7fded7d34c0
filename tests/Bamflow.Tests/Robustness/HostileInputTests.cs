using System.Buffers.Binary;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// Hostile BAM records and headers, and corrupt BGZF blocks, in whole files read every way (the reader, the
/// sequential engine, the parallel engine with 1 and 3 threads): each ends in the typed error naming the field, the
/// same for every way, and a length field claiming gigabytes never allocates what it claims.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private const string HeaderText = "@HD\tVN:1.6\n@SQ\tSN:ref0\tLN:1000\n";

    // r1  99  ref0  101  60  7M1I  =  301  210  ACGTACGT  II#IIIII  NM:C:1  XB:B:s,-1,2  (SAMv1 §4.2, offsets from refID)
    private static readonly byte[] s_record =
    [
        0x00, 0x00, 0x00, 0x00,             //  0 refID = 0
        0x64, 0x00, 0x00, 0x00,             //  4 pos = 100
        0x03,                               //  8 l_read_name = 3 ("r1" + NUL)
        0x3C,                               //  9 mapq = 60
        0x49, 0x12,                         // 10 bin = 4681
        0x02, 0x00,                         // 12 n_cigar_op = 2
        0x63, 0x00,                         // 14 flag = 99
        0x08, 0x00, 0x00, 0x00,             // 16 l_seq = 8
        0x00, 0x00, 0x00, 0x00,             // 20 next_refID = 0
        0x2C, 0x01, 0x00, 0x00,             // 24 next_pos = 300
        0xD2, 0x00, 0x00, 0x00,             // 28 tlen = 210
        (byte)'r', (byte)'1', 0x00,         // 32 read_name "r1\0"
        0x70, 0x00, 0x00, 0x00,             // 35 cigar[0] = 7M
        0x11, 0x00, 0x00, 0x00,             // 39 cigar[1] = 1I
        0x12, 0x48, 0x12, 0x48,             // 43 seq "ACGTACGT"
        40, 40, 2, 40, 40, 40, 40, 40,      // 47 qual
        (byte)'N', (byte)'M', (byte)'C', 1, // 55 NM:C:1
        (byte)'X', (byte)'B', (byte)'B', (byte)'s', 0x02, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x02, 0x00, // 59 XB:B:s,-1,2 (count at 63)
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("block_size 20", BamRecordError.BlockSizeTooSmall, "block_size")]
    [InlineData("block_size 0", BamRecordError.BlockSizeTooSmall, "block_size")]
    [InlineData("block_size -1", BamRecordError.BlockSizeTooSmall, "block_size")]
    [InlineData("block_size past the end", BamRecordError.Truncated, "block_size")]
    [InlineData("block_size int.MaxValue", BamRecordError.BlockSizeTooLarge, "block_size")]
    [InlineData("l_read_name 0", BamRecordError.ReadNameLength, "read_name")]
    [InlineData("l_read_name 255", BamRecordError.ReadNameLength, "read_name")]
    [InlineData("n_cigar_op 65535", BamRecordError.CigarOverrun, "cigar")]
    [InlineData("l_seq int.MaxValue", BamRecordError.SequenceOverrun, "seq")]
    [InlineData("l_seq past qual", BamRecordError.QualityOverrun, "qual")]
    [InlineData("l_seq negative", BamRecordError.SequenceLength, "seq")]
    [InlineData("aux type Q", BamRecordError.AuxType, "aux")]
    [InlineData("aux type NUL", BamRecordError.AuxType, "aux")]
    [InlineData("B count 3", BamRecordError.AuxArrayOverrun, "aux")]
    [InlineData("B count 2^31", BamRecordError.AuxArrayOverrun, "aux")]
    [InlineData("B count 2^32-1", BamRecordError.AuxArrayOverrun, "aux")]
    [InlineData("B subtype Z", BamRecordError.AuxArrayType, "aux")]
    [InlineData("refID 1", BamRecordError.ReferenceId, "refID")]
    [InlineData("refID -2", BamRecordError.ReferenceId, "refID")]
    [InlineData("refID int.MinValue", BamRecordError.ReferenceId, "refID")]
    [InlineData("next_refID 1", BamRecordError.MateReferenceId, "next_refID")]
    [InlineData("next_refID -2", BamRecordError.MateReferenceId, "next_refID")]
    [InlineData("CIGAR query length 7, l_seq 8", BamRecordError.CigarSequenceMismatch, "cigar")]
    public async Task HostileRecord_SecondOfThree_TypedErrorWithFieldFromEveryWay(string name, BamRecordError expected, string field)
    {
        byte[] hostile = HostileRecord(name);
        int headerLength = BgzfTestWriter.BamBytes(HeaderText, [("ref0", 1000)]).Length;
        string path = Write(name, Inflated(hostile));

        EngineRuns.Outcome[] outcomes = await EngineRuns.AllAsync(path);

        foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names))
        {
            outcome.AssertTypedError(path, new FileInfo(path).Length, $"{name} ({way})");
            var error = Assert.IsType<BamRecordFormatException>(outcome.Error);
            Assert.Equal((expected, field, 1L), (error.Error, error.Field, error.RecordIndex));
            Assert.Equal(new VirtualPosition(0, headerLength + 4 + s_record.Length), error.Position);
        }

        Assert.All(outcomes, o => Assert.Equal(outcomes[0].Key, o.Key));
    }

    [Theory]
    [InlineData("magic", "magic")]
    [InlineData("l_text int.MaxValue", "l_text")] // beyond MaxHeaderTextBytes: refused before reading
    [InlineData("l_text negative", "l_text")]
    [InlineData("n_ref int.MaxValue", "l_name")]
    [InlineData("n_ref negative", "n_ref")]
    [InlineData("l_name int.MaxValue", "name")]
    [InlineData("l_name 0", "l_name")]
    public async Task HostileHeader_TypedErrorWithFieldFromEveryWay(string name, string field)
    {
        string path = Write(name, BgzfTestWriter.Compress(HostileHeader(name)));

        EngineRuns.Outcome[] outcomes = await EngineRuns.AllAsync(path);

        foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names))
        {
            outcome.AssertTypedError(path, new FileInfo(path).Length, $"{name} ({way})");
            Assert.Equal(field, Assert.IsType<BamHeaderFormatException>(outcome.Error).Field);
        }
    }

    [Theory]
    [InlineData("l_text int.MaxValue")]
    [InlineData("n_ref int.MaxValue")]
    [InlineData("l_name int.MaxValue")]
    public void HostileHeader_ClaimingGigabytes_AllocatesOnlyWhatIsThere(string name)
    {
        string path = Write(name, BgzfTestWriter.Compress(HostileHeader(name)));

        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.ThrowsAny<BamHeaderFormatException>(() => BamReader.Open(path).Dispose());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The reader's own buffers (two 64 KiB BGZF buffers, a 64 KiB record buffer) and one 1 MiB header read step.
        Assert.True(allocated < 4 << 20, $"{name}: {allocated:N0} bytes allocated for a header claiming gigabytes");
    }

    [Fact]
    public void HostileRecord_BlockSizeClaimingTwoGigabytes_ReaderAllocatesOnlyWhatIsThere()
    {
        // 256 KiB of data follow a block_size of 2^31-1: the buffer grows with them, to 512 KiB at most.
        byte[] filler = new byte[256 << 10];
        new Random(5).NextBytes(filler);
        string path = Write("block_size int.MaxValue", Inflated(HostileRecord("block_size int.MaxValue"), trailing: filler));

        using BamReader reader = BamReader.Open(path);
        Assert.True(reader.TryRead(out _));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<BamRecordFormatException>(() => reader.TryRead(out _));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(BamRecordError.BlockSizeTooLarge, error.Error);
        Assert.True(allocated < 4 << 20, $"{allocated:N0} bytes allocated for a record claiming 2 GiB");
    }

    [Theory]
    [InlineData(false, BgzfError.InflatedSizeMismatch)] // ISIZE's lowest bit flipped: still ≤ 64 KiB
    [InlineData(true, BgzfError.InflatedSizeOutOfRange)] // ISIZE's third byte set: beyond 64 KiB
    public async Task CorruptIsize_EveryWay_TypedBgzfError(bool beyond64KiB, BgzfError expected)
    {
        byte[] file = File.ReadAllBytes(Conversion.Fixture("sample.bam"));
        List<long> blocks = TruncationTests.BlockOffsets(file);
        int block = (int)blocks[2];
        int next = (int)blocks[3];
        file[beyond64KiB ? next - 2 : next - 4] ^= 0x01;

        string path = Write("isize", file);
        EngineRuns.Outcome[] outcomes = await EngineRuns.AllAsync(path);

        foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names))
        {
            var error = Assert.IsType<BgzfFormatException>(outcome.Error);
            Assert.True((expected, (long?)block, path) == (error.Error, error.CompressedOffset, error.FileName), $"{way}: {error.Error} at {error.CompressedOffset}");
        }
    }

    [Fact]
    public async Task BitFlips_InDeflateDataAndCrc_BgzfErrorNamingTheBlockFromEveryWayAndBackend()
    {
        byte[] clean = File.ReadAllBytes(Conversion.Fixture("sample.bam"));
        List<long> blocks = TruncationTests.BlockOffsets(clean);
        int flips = 0;
        for (int b = 0; b + 2 < blocks.Count; b++) // every block but the EOF marker
        {
            int start = (int)blocks[b], end = (int)blocks[b + 1];
            int dataStart = start + 18, crcAt = end - 8;
            int[] positions = [dataStart, dataStart + ((crcAt - dataStart) / 3), dataStart + (2 * (crcAt - dataStart) / 3), crcAt - 1, crcAt];
            foreach (int at in positions)
            {
                // Any bit, except in the last DEFLATE byte: its high bits may be padding after the end-of-block code,
                // which no decoder reads (samtools too accepts them flipped); its lowest bit is always data.
                int bit = at == crcAt - 1 ? 0 : flips % 8;
                byte[] file = (byte[])clean.Clone();
                file[at] ^= (byte)(1 << bit);
                flips++;
                string path = Write($"flip-{at}", file);
                string context = $"bit {bit} of byte {at} (block at {start})";
                List<EngineRuns.Outcome> outcomes = [.. await EngineRuns.AllAsync(path)];
                if (BgzfInflater.IsLibDeflateAvailable)
                {
                    outcomes.Add(await EngineRuns.ReadAsync(path, BgzfInflaterKind.Managed));
                }

                string all = string.Join("; ", outcomes.Zip([.. EngineRuns.Names, "reader (managed inflater)"], (o, way) => $"{way}: {o.Key}"));
                foreach (EngineRuns.Outcome outcome in outcomes)
                {
                    var error = outcome.Error as BgzfFormatException;
                    Assert.True(error is not null, $"{context}: {all}");
                    BgzfError[] allowed = at == crcAt ? [BgzfError.CrcMismatch] : [BgzfError.CrcMismatch, BgzfError.InflateFailed, BgzfError.InflatedSizeMismatch];
                    Assert.True(allowed.Contains(error.Error) && error.CompressedOffset == start && error.FileName == path, $"{context}: {outcome.Key}");
                }

                Assert.All(outcomes.Take(4), o => Assert.Equal(outcomes[0].Key, o.Key));
                File.Delete(path);
            }
        }

        Assert.True(flips >= 40, $"{flips} flips");
    }

    [Theory]
    [InlineData(0)] // the header's block
    [InlineData(1)] // a block of records
    public async Task GzipExtraFieldOf64KiB_EveryWay_NotBgzfInsteadOfACrash(int blockIndex)
    {
        // XLEN = 65535: a gzip header that cannot fit a 64 KiB BGZF block. Followed by 100 bytes and the end.
        byte[] bad = new byte[12 + 100];
        bad[0] = 0x1f; bad[1] = 0x8b; bad[2] = 8; bad[3] = 4; bad[9] = 0xff;
        BinaryPrimitives.WriteUInt16LittleEndian(bad.AsSpan(10), 0xFFFF);
        "BC\u0002\0"u8.CopyTo(bad.AsSpan(12));
        byte[] file = blockIndex == 0
            ? [.. bad]
            : [.. BgzfTestWriter.Block(BgzfTestWriter.BamBytes(HeaderText, [("ref0", 1000)])), .. bad];
        string path = Write("xlen", file);

        EngineRuns.Outcome[] outcomes = await EngineRuns.AllAsync(path);

        long offset = blockIndex == 0 ? 0 : file.Length - bad.Length;
        foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names))
        {
            var error = outcome.Error as BgzfFormatException;
            Assert.True(error is not null, $"{way}: {outcome.Key}");
            Assert.Equal((BgzfError.NotBgzf, (long?)offset), (error.Error, error.CompressedOffset));
        }
    }

    [Theory]
    [InlineData("file cut inside a later block")]
    [InlineData("CRC error in a later block")]
    [InlineData("block_size 0 in a later record")]
    [InlineData("bad magic in a later block")]
    [InlineData("block_size 0 in the next record")]
    public async Task RecordErrorThenLaterInputError_EveryWay_ReportsTheFirstInFileOrder(string later)
    {
        // 6,000 records (six BGZF blocks, twelve batches of 500); record 1,500 has refID 1 (one reference). The
        // parallel engine reads, inflates and cuts ahead of the conversion that validates records, so it meets the
        // later error first in time; it must still report the earlier one, as the sequential path does.
        var records = new List<byte[]>();
        for (int i = 0; i < 6000; i++)
        {
            records.Add(i == 1500 ? HostileRecord("refID 1")[4..] : s_record);
            if (i == 1500 && later == "block_size 0 in the next record")
            {
                // In the same chunk as the bad record: the sequential engine reads it ahead of validating the chunk.
                records.Add([]);
            }
        }

        if (later == "block_size 0 in a later record")
        {
            records.Add([]);
        }

        byte[] file = BgzfTestWriter.Compress(BgzfTestWriter.BamBytes(HeaderText, [("ref0", 1000)], [.. records]));
        List<long> blocks = TruncationTests.BlockOffsets(file);
        switch (later)
        {
            case "file cut inside a later block":
                file = file[..(int)(blocks[^3] + 100)];
                break;
            case "CRC error in a later block":
                file[(int)blocks[^2] - 8] ^= 0x01;
                break;
            case "bad magic in a later block":
                file[(int)blocks[^3]] = 0x00;
                break;
        }

        string path = Write("two-errors", file);
        EngineRuns.Outcome[] outcomes = await EngineRuns.AllAsync(path);

        foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names))
        {
            var error = outcome.Error as BamRecordFormatException;
            Assert.True(error is { Error: BamRecordError.ReferenceId, RecordIndex: 1500 }, $"{later} ({way}): {outcome.Key}");
        }
    }

    /// <summary>A copy of the valid record the hostile ones are made from (without block_size; layout in its comments).</summary>
    internal static byte[] ValidRecord => (byte[])s_record.Clone();

    /// <summary>The header text of <see cref="HostileFile"/>'s files.</summary>
    internal const string HostileFileHeader = HeaderText;

    /// <summary>The hostile record with <paramref name="name"/>, block_size first (for other test classes).</summary>
    internal static byte[] HostileRecordBytes(string name) => HostileRecord(name);

    /// <summary>A file of a good record, <paramref name="hostile"/>, then <paramref name="trailing"/> (for other test classes).</summary>
    internal static byte[] HostileFile(byte[] hostile, byte[]? trailing) => Inflated(hostile, trailing);

    /// <summary>A file: header, a good record, <paramref name="hostile"/> (with its block_size), then <paramref name="trailing"/> (default: a good record), EOF block.</summary>
    private static byte[] Inflated(byte[] hostile, byte[]? trailing = null)
    {
        byte[] inflated =
        [
            .. BgzfTestWriter.BamBytes(HeaderText, [("ref0", 1000)], s_record),
            .. hostile,
            .. trailing ?? [.. BitConverter.GetBytes(s_record.Length), .. s_record],
        ];
        return BgzfTestWriter.Compress(inflated);
    }

    /// <summary>The hostile record, block_size first.</summary>
    private static byte[] HostileRecord(string name)
    {
        byte[] r = (byte[])s_record.Clone();
        int? blockSize = null;
        switch (name)
        {
            case "block_size 20": r = r[..20]; break;
            case "block_size 0": blockSize = 0; break;
            case "block_size -1": blockSize = -1; break;
            case "block_size past the end": blockSize = 1000; break;
            case "block_size int.MaxValue": blockSize = int.MaxValue; break;
            case "l_read_name 0": r[8] = 0; break;
            case "l_read_name 255": r[8] = 255; break;
            case "n_cigar_op 65535": r[12] = 0xFF; r[13] = 0xFF; break;
            case "l_seq int.MaxValue": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(16), int.MaxValue); break;
            case "l_seq past qual": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(16), 30); break; // seq fits (15 bytes), qual (30) does not
            case "l_seq negative": BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(16), 0x80000000); break;
            case "aux type Q": r[57] = (byte)'Q'; break;
            case "aux type NUL": r[57] = 0; break;
            case "B count 3": BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(63), 3); break;
            case "B count 2^31": BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(63), 1u << 31); break;
            case "B count 2^32-1": BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(63), uint.MaxValue); break;
            case "B subtype Z": r[62] = (byte)'Z'; break;
            case "refID 1": BinaryPrimitives.WriteInt32LittleEndian(r, 1); break;
            case "refID -2": BinaryPrimitives.WriteInt32LittleEndian(r, -2); break;
            case "refID int.MinValue": BinaryPrimitives.WriteInt32LittleEndian(r, int.MinValue); break;
            case "next_refID 1": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(20), 1); break;
            case "next_refID -2": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(20), -2); break;
            case "CIGAR query length 7, l_seq 8": r[35] = 0x60; break; // 7M1I → 6M1I: samtools' bam_read1 refuses it too
            default: throw new ArgumentException(name);
        }

        return [.. BitConverter.GetBytes(blockSize ?? r.Length), .. r];
    }

    /// <summary>Inflated BAM data whose header has one hostile field (SAMv1 §4.2: magic l_text text n_ref {l_name name l_ref}).</summary>
    private static byte[] HostileHeader(string name)
    {
        byte[] text = "@HD\tVN:1.6\n"u8.ToArray();
        var bam = new MemoryStream();
        var w = new BinaryWriter(bam);
        w.Write(name == "magic" ? "BAM\u0002"u8 : "BAM\u0001"u8);
        w.Write(name switch { "l_text int.MaxValue" => int.MaxValue, "l_text negative" => -5, _ => text.Length });
        w.Write(text);
        w.Write(name switch { "n_ref int.MaxValue" => int.MaxValue, "n_ref negative" => -1, _ => 1 });
        w.Write(name switch { "l_name int.MaxValue" => int.MaxValue, "l_name 0" => 0, _ => 5 });
        w.Write("ref0\0"u8);
        w.Write(1000);
        w.Write(new byte[100]); // a little more data, far less than any hostile length claims
        w.Flush();
        return bam.ToArray();
    }

    private string Write(string name, byte[] file)
    {
        string path = Path.Combine(_dir, string.Concat(name.Select(c => char.IsLetterOrDigit(c) ? c : '_')) + ".bam");
        File.WriteAllBytes(path, file);
        return path;
    }
}
