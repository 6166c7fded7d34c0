using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Arrow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Robustness;

/// <summary>
/// Validity of what is written, and bamflow's verdict on a record or header against samtools 1.16's on the same bytes
/// (README, "Validity of what is written"). Values that an Arrow column cannot hold exactly (POS out of SAMv1's range,
/// text that is not UTF-8, QUAL above 93) are refused by a conversion with a typed error, or skipped and counted in
/// lenient mode, although samtools prints them; everything else gets samtools' verdict, and what converts is what
/// samtools prints. Every file written passes full validation by independent readers.
/// </summary>
public sealed class ValidityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-validity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Records whose values a conversion refuses; samtools view and flagstat accept them.</summary>
    public static TheoryData<string, BamRecordError, string> Unwritable => new()
    {
        { "pos -100", BamRecordError.Position, "pos" },
        { "pos 2^31-1", BamRecordError.Position, "pos" },
        { "next_pos -100", BamRecordError.MatePosition, "next_pos" },
        { "next_pos 2^31-1", BamRecordError.MatePosition, "next_pos" },
        { "read_name r\\xFF", BamRecordError.ReadNameEncoding, "read_name" },
        { "qual 94", BamRecordError.QualityRange, "qual" },
        { "qual 200", BamRecordError.QualityRange, "qual" },
        { "qual 0xFF after the first", BamRecordError.QualityRange, "qual" },
        { "A:\\xE9", BamRecordError.AuxTextEncoding, "aux" },
        { "tag \\xFF\\xFE", BamRecordError.AuxTextEncoding, "aux" },
        { "Z:a\\xFFb", BamRecordError.AuxTextEncoding, "aux" },
        { "Z:\\xC3 cut", BamRecordError.AuxTextEncoding, "aux" },
        { "H:\\xFF", BamRecordError.AuxTextEncoding, "aux" },
    };

    /// <summary>Edge values that convert exactly as samtools prints them (item by item, the README table's "kept" rows).</summary>
    public static TheoryData<string> Representable =>
    [
        "tlen int.MinValue",
        "read_name without NUL",
        "read_name UTF-8",
        "read_name @r",
        "Z:UTF-8",
        "qual 0xFF first",
        "qual 93",
        "aux tail 1 byte",
        "aux tail 2 bytes",
        "aux tail 3 bytes",
        "CIGAR/SEQ mismatch, unmapped",
        "CIGAR/SEQ mismatch, no SEQ",
        "pos -1 next_pos -1",
    ];

    [Theory]
    [MemberData(nameof(Unwritable))]
    public async Task UnwritableValue_StrictConversionTypedError_LenientSkipsIt_ReaderAndStatsAcceptItAsSamtools(string name, BamRecordError expected, string field)
    {
        string path = Write(name, HostileInputTests.HostileFile(WithBlockSize(Record(name)), null));

        // samtools prints the record (the bytes as they are) and flagstat counts it: its verdict is "valid".
        Assert.Equal(3, ArrowSam.SamtoolsLines(path).Count);
        AssertStatsAgreeWithFlagstat(path, name);

        EngineRuns.Outcome[] outcomes = await EngineRuns.AllAsync(path);
        Assert.True(outcomes[0].Error is null && outcomes[0].Records == 3, $"{name}: the reader, as samtools, reads it: {outcomes[0].Key}");
        int headerLength = BgzfTestWriter.BamBytes(HostileInputTests.HostileFileHeader, [("ref0", 1000)]).Length;
        foreach ((EngineRuns.Outcome outcome, string way) in outcomes.Zip(EngineRuns.Names).Skip(1))
        {
            var error = outcome.Error as BamRecordFormatException;
            Assert.True(error is not null, $"{name} ({way}): {outcome.Key}");
            Assert.Equal((expected, field, 1L, path), (error.Error, error.Field, error.RecordIndex, error.FileName));
            Assert.Equal(new Bamflow.Bgzf.VirtualPosition(0, headerLength + 4 + HostileInputTests.ValidRecord.Length), error.Position);
        }

        foreach (bool sequential in new[] { true, false })
        {
            var engine = new BamArrowPipeline(new() { BatchSize = 2 }, new() { Sequential = sequential, Threads = 2, Validation = ValidationMode.Lenient });
            (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, engine);
            Assert.Equal((3L, 1L, 2L), (summary.RecordsRead, summary.RecordsSkipped, summary.Records));
            List<ArrowSam.Line> samtools = ArrowSam.SamtoolsLines(path);
            ArrowSam.AssertSame([samtools[0], samtools[2]], [.. ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false))], $"{name}, lenient, sequential={sequential}");
        }
    }

    [Theory]
    [MemberData(nameof(Representable))]
    public void RepresentableEdgeValue_Strict_ConvertsExactlyAsSamtoolsPrintsIt(string name)
    {
        string path = Write(name, HostileInputTests.HostileFile(WithBlockSize(Record(name)), null));

        (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path);

        Assert.Equal(0, summary.RecordsSkipped);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), [.. ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: false))], name);
        AssertStatsAgreeWithFlagstat(path, name);
    }

    [Fact]
    public void EveryCaseInOneFile_LenientToIpcFileStreamAndParquet_PassIndependentValidation()
    {
        // Every unwritable and every representable record, and the CIGAR/SEQ mismatch samtools refuses, between valid ones.
        string[] unwritable = [.. Unwritable.Select(row => row.Data.Item1)];
        string[] kept = [.. Representable];
        var records = new List<byte[]> { HostileInputTests.ValidRecord };
        foreach (string name in unwritable.Concat(kept).Append("CIGAR/SEQ mismatch"))
        {
            records.Add(Record(name));
            records.Add(HostileInputTests.ValidRecord);
        }

        string path = Write("all", BgzfTestWriter.Compress(BgzfTestWriter.BamBytes(HostileInputTests.HostileFileHeader, [("ref0", 1000)], [.. records])));
        // samtools refuses the file at the CIGAR/SEQ mismatch (the last but one record): the expected rows are its
        // records up to there, without the unwritable ones, then the last valid record.
        List<ArrowSam.Line> good = ArrowSam.SamtoolsLines(Write("good", BgzfTestWriter.Compress(BgzfTestWriter.BamBytes(
            HostileInputTests.HostileFileHeader, [("ref0", 1000)], [.. records.Where((_, i) => i == 0 || i % 2 == 0 || i > 2 * unwritable.Length && i < records.Count - 2)]))));
        Assert.Equal(1 + unwritable.Length + (2 * kept.Length) + 1, good.Count);

        var lenient = new PipelineOptions { Threads = 2, Validation = ValidationMode.Lenient };
        foreach (ArrowIpcFormat format in new[] { ArrowIpcFormat.File, ArrowIpcFormat.Stream })
        {
            (byte[] ipc, ConversionSummary summary) = Conversion.ToIpc(path, new() { BatchSize = 5 }, lenient, format);
            Assert.Equal(unwritable.Length + 1, summary.RecordsSkipped);
            string output = Path.Combine(_dir, $"all.{format}");
            File.WriteAllBytes(output, ipc);

            using JsonDocument js = JavaScriptReaderTests.ReadWithNode(output, validate: true);
            Assert.Equal(good.Count, js.RootElement.GetProperty("rows").GetInt32());
            Assert.True(js.RootElement.GetProperty("validated").GetProperty("utf8Values").GetInt32() >= good.Count * 4, format.ToString()); // qname, cigar, seq, qual at least
            ArrowSam.AssertSame(good, [.. ArrowSam.Lines(ArrowSam.ReadAll(ipc, stream: format == ArrowIpcFormat.Stream))], $"IPC {format}");
        }

        string parquet = Path.Combine(_dir, "all.parquet");
        ConversionSummary parquetSummary = ParquetSam.Convert(path, parquet, new() { BatchSize = 5 }, lenient);
        Assert.Equal(unwritable.Length + 1, parquetSummary.RecordsSkipped);
        // DuckDB reads every value of every column and refuses strings that are not UTF-8.
        ArrowSam.AssertSame(good, ParquetSam.Lines(parquet), "Parquet (DuckDB)");
    }

    [Fact]
    public void CigarSequenceMismatch_StatsAndConvertExitOne_AsFlagstatDoes()
    {
        string path = Write("cigar-seq", HostileInputTests.HostileFile(WithBlockSize(Record("CIGAR/SEQ mismatch")), null));

        (int flagstatCode, _, string flagstatError) = Samtools.Run(null, "flagstat", path);
        var stats = BamflowCli.Run("stats", path);
        var convert = BamflowCli.Run("convert", path, "-o", Path.Combine(_dir, "out.arrow"), "--quiet");

        Assert.True(flagstatCode == 1, flagstatError);
        Assert.Contains("CIGAR and query sequence lengths differ", flagstatError, StringComparison.Ordinal);
        Assert.True((1, true) == (stats.ExitCode, stats.Stdout.Length == 0), $"stats: exit {stats.ExitCode}, {stats.StdoutText} {stats.Stderr}");
        Assert.Contains("in record 2 ", stats.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, convert.ExitCode);
        Assert.False(File.Exists(Path.Combine(_dir, "out.arrow")));
    }

    [Fact]
    public void CorruptAuxOfFourBytes_BamflowStatsStricterThanFlagstat_AsDocumented()
    {
        // "XYi\x01": an int32 with one byte. samtools view fails on it ("Corrupted aux data"); flagstat never looks at
        // aux data and counts it. bamflow validates aux data for every command, so stats fails too (README's table).
        byte[] record = [.. HostileInputTests.ValidRecord, .. "XYi"u8, 0x01];
        string path = Write("aux-4", HostileInputTests.HostileFile(WithBlockSize(record), null));

        (int viewCode, _, _) = Samtools.Run(null, "view", path);
        (int flagstatCode, _, _) = Samtools.Run(null, "flagstat", path);
        var stats = BamflowCli.Run("stats", path);

        Assert.Equal((1, 0), (viewCode, flagstatCode));
        Assert.Equal(1, stats.ExitCode);
        Assert.Contains("aux field runs past the end of the record in record 2 ", stats.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hello\n@SQ\tSN:ref0\tLN:1000\n", 1)]
    [InlineData("@HD\tVN:1.6\n\n@SQ\tSN:ref0\tLN:1000\n", 2)]
    [InlineData("@HD\tVN:1.6\n@SQ\tSN:ref0\tLN:1000\n @CO\tindented\n", 3)]
    public async Task HeaderLineNotStartingWithAt_RefusedEveryWay_AsSamtoolsDoes(string text, int line)
    {
        string path = Write($"header-{line}", BgzfTestWriter.Compress(BgzfTestWriter.BamBytes(text, [("ref0", 1000)], HostileInputTests.ValidRecord)));

        (int flagstatCode, _, string flagstatError) = Samtools.Run(null, "flagstat", path);
        Assert.True(flagstatCode == 1 && flagstatError.Contains($"Malformed SAM header at line {line}", StringComparison.Ordinal), flagstatError);

        foreach ((EngineRuns.Outcome outcome, string way) in (await EngineRuns.AllAsync(path)).Zip(EngineRuns.Names))
        {
            outcome.AssertTypedError(path, new FileInfo(path).Length, way);
            Assert.Equal("text", Assert.IsType<BamHeaderFormatException>(outcome.Error).Field);
            Assert.Contains($"line {line} ", outcome.Error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, BamflowCli.Run("stats", path).ExitCode);
    }

    [Theory]
    [InlineData("@HD\tVN:1.6")]                // no newline at the end: samtools adds one (with a warning)
    [InlineData("@HD\tVN:1.6\0\0\0")]          // NUL padding right after the last line: the newline takes the first NUL's place
    [InlineData("@HD\tVN:1.6\n\0@CO\tafter a NUL\n")]
    [InlineData("@HD\tVN:1.6\n@SQ\tSN:ref0\tLN:1000")]
    [InlineData("@HD VN:1.6\n@RG\tSM:x\n@SQ\tSN:ref0\n")] // lines samtools only refuses when it parses them (to add @PG)
    public void HeaderTextSamtoolsAccepts_SamHeaderMetadataIsWhatSamtoolsPrints(string text)
    {
        string path = Write("header", BgzfTestWriter.Compress(BgzfTestWriter.BamBytes(text, [("ref0", 1000)], HostileInputTests.ValidRecord)));

        AssertHeaderAsSamtools(path, text);
    }

    [Fact]
    public void NegativeLRef_AcceptedAndPrintedAsSamtoolsDoes()
    {
        // htslib keeps l_ref as stored; samtools view -H prints the @SQ line it makes from it as LN:-1000.
        string path = Write("lref", BgzfTestWriter.Compress(BgzfTestWriter.BamBytes([], [("ref0"u8.ToArray(), -1000)], HostileInputTests.ValidRecord)));

        AssertHeaderAsSamtools(path, "no text");
        AssertStatsAgreeWithFlagstat(path, "l_ref -1000");

        // idxstats holds l_ref as uint32 (4294966296); stats --extended's REF lines are idxstats' lines.
        (int code, byte[] idxstats, string stderr) = Samtools.Run(null, "idxstats", path);
        Assert.True(code == 0, stderr);
        var extended = BamflowCli.Run("stats", "--extended", path);
        string[] refLines = [.. extended.StdoutText.Split('\n').Where(l => l.StartsWith("REF\t", StringComparison.Ordinal)).Select(l => l[4..])];
        Assert.Equal(Encoding.UTF8.GetString(idxstats).TrimEnd('\n').Split('\n'), refLines);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("text")]
    public void HeaderNotUtf8_ConvertRefusesWithTypedError_StatsCountsAsFlagstat(string field)
    {
        // A Latin-1 é in a @CO line, or a reference name with a byte that starts no UTF-8 sequence.
        byte[] text = field == "text" ? [.. "@HD\tVN:1.6\n@CO\tJos"u8, 0xE9, .. "\n@SQ\tSN:ref0\tLN:1000\n"u8] : [];
        byte[] name = field == "name" ? [(byte)'r', 0xFF, (byte)'x'] : "ref0"u8.ToArray();

        string path = Write("header-utf8", BgzfTestWriter.Compress(BgzfTestWriter.BamBytes(text, [(name, 1000)], HostileInputTests.ValidRecord)));

        Assert.Single(ArrowSam.SamtoolsLines(path));
        AssertStatsAgreeWithFlagstat(path, field);
        var error = Assert.Throws<BamHeaderFormatException>(() => Conversion.ToIpc(path, pipeline: new() { Validation = ValidationMode.Lenient }));
        Assert.Equal((field, path), (error.Field, error.FileName));
        var convert = BamflowCli.Run("convert", path, "-o", Path.Combine(_dir, "header.parquet"), "--quiet");
        Assert.True(convert.ExitCode == 1 && convert.Stderr.Contains("not valid UTF-8", StringComparison.Ordinal), convert.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "header.parquet")));
    }

    /// <summary>The valid record (HostileInputTests' r1: 7M1I, l_seq 8, NM:C:1, XB:B:s) changed as <paramref name="name"/> says; no block_size.</summary>
    private static byte[] Record(string name)
    {
        byte[] r = HostileInputTests.ValidRecord;
        switch (name)
        {
            case "pos -100": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(4), -100); break;
            case "pos 2^31-1": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(4), int.MaxValue); break;
            case "next_pos -100": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(24), -100); break;
            case "next_pos 2^31-1": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(24), int.MaxValue); break;
            case "pos -1 next_pos -1":
                BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(4), -1);
                BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(24), -1);
                break;
            case "tlen int.MinValue": BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(28), int.MinValue); break;
            case "read_name r\\xFF": r[33] = 0xFF; break;                     // "r1\0" → "r\xFF\0"
            case "read_name without NUL": r[34] = (byte)'x'; break;           // "r1x": htslib takes all 3 bytes
            case "read_name UTF-8": r[32] = 0xC3; r[33] = 0xA9; break;        // "é"
            case "read_name @r": r[32] = (byte)'@'; r[33] = (byte)'r'; break; // outside SAMv1's QNAME set, but text
            case "qual 94": r[54] = 94; break;                                // last quality: '~' + 1
            case "qual 200": r[54] = 200; break;
            case "qual 0xFF after the first": r[54] = 0xFF; break;
            case "qual 0xFF first": r[47] = 0xFF; break;                      // QUAL absent ('*'), whatever follows
            case "qual 93": r[54] = 93; break;                                // '~'
            case "A:\\xE9": r[55] = (byte)'X'; r[56] = (byte)'A'; r[57] = (byte)'A'; r[58] = 0xE9; break; // NM:C:1 → XA:A:\xE9
            case "tag \\xFF\\xFE": r[55] = 0xFF; r[56] = 0xFE; break;          // NM → \xFF\xFE
            case "Z:a\\xFFb": r = [.. r, .. "XZZa"u8, 0xFF, (byte)'b', 0]; break;
            case "Z:\\xC3 cut": r = [.. r, .. "XZZ"u8, 0xC3, 0]; break;        // a 2-byte sequence cut short by the NUL
            case "H:\\xFF": r = [.. r, .. "XHH"u8, 0xFF, 0]; break;
            case "Z:UTF-8": r = [.. r, .. "XZZh\u00E9llo \u2713"u8, 0]; break;
            case "aux tail 1 byte": r = [.. r, (byte)'X']; break;
            case "aux tail 2 bytes": r = [.. r, .. "XY"u8]; break;
            case "aux tail 3 bytes": r = [.. r, .. "XYC"u8]; break;            // a C field's tag and type, without its byte
            case "CIGAR/SEQ mismatch": r[35] = 0x60; break;                   // 7M1I → 6M1I: 7 query bases, l_seq 8
            case "CIGAR/SEQ mismatch, unmapped": r[35] = 0x60; r[14] |= 0x4; break; // htslib checks mapped records only
            case "CIGAR/SEQ mismatch, no SEQ":
                r[35] = 0x60;
                BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(16), 0);     // l_seq 0: SEQ and QUAL '*'
                r = [.. r[..43], .. r[55..]];
                break;
            default: throw new ArgumentException(name);
        }

        return r;
    }

    private static byte[] WithBlockSize(byte[] record) => [.. BitConverter.GetBytes(record.Length), .. record];

    /// <summary><c>bamflow stats</c> (the real executable) exits and prints as <c>samtools flagstat</c> does.</summary>
    private static void AssertStatsAgreeWithFlagstat(string path, string context)
    {
        (int code, byte[] stdout, string stderr) = Samtools.Run(null, "flagstat", path);
        var stats = BamflowCli.Run("stats", path);
        Assert.True(code == stats.ExitCode, $"{context}: flagstat exits {code} ({stderr}), bamflow stats {stats.ExitCode} ({stats.Stderr})");
        Assert.Equal(Encoding.UTF8.GetString(stdout), stats.StdoutText);
    }

    /// <summary>The sam.header metadata of a conversion is exactly what <c>samtools view -H --no-PG</c> prints.</summary>
    private static void AssertHeaderAsSamtools(string path, string context)
    {
        (int code, byte[] header, string stderr) = Samtools.Run(null, "view", "-H", "--no-PG", path);
        Assert.True(code == 0, stderr);
        (byte[] ipc, _) = Conversion.ToIpc(path);
        string metadata = ArrowSam.ReadAll(ipc, stream: false)[0].Schema.Metadata[BamColumns.SamHeaderKey];
        Assert.True(Encoding.UTF8.GetString(header) == metadata, $"{context}: samtools [{Encoding.UTF8.GetString(header)}] vs sam.header [{metadata}]");
    }

    private string Write(string name, byte[] file)
    {
        string path = Path.Combine(_dir, string.Concat(name.Select(c => char.IsLetterOrDigit(c) ? c : '_')) + ".bam");
        File.WriteAllBytes(path, file);
        return path;
    }
}
