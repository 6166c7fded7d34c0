using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Shards;

/// <summary>
/// Plans of hostile inputs, each BAM made here (samtools writes it from SAM text, then it is re-blocked with
/// <see cref="BgzfTestWriter"/> into small BGZF blocks so that boundaries fall inside records): records that span many
/// blocks, record-shaped bytes inside records, an unaligned unsorted file, truncated and corrupt files; and plans that
/// do not fit the file or were edited.
/// </summary>
public sealed class ShardHostileTests
{
    private const string Header = "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:1000000\n@SQ\tSN:chr2\tLN:500000\n";

    [Fact]
    public void LongReadsSpanningManyBlocks_UnalignedUnsorted_ShardsAreTheWholeRun()
    {
        using var temp = new TempFolder();
        var random = new Random(18);
        var sam = new StringBuilder(Header);
        for (int i = 0; i < 30; i++)
        {
            // 20 kb to 260 kb: each record spans 2 to 25 of the 16,000-byte blocks below.
            int length = 20_000 + random.Next(240_000);
            sam.Append(CultureInfo.InvariantCulture, $"long{i}\t4\t*\t0\t0\t*\t*\t0\t0\t{Bases(random, length)}\t{Qualities(random, length)}\tRG:Z:rg{i % 3}\tXN:i:{i}\n");
        }

        string path = Reblocked(temp, "long.bam", sam.ToString(), 16_000);
        AssertShardsAreTheWholeRun(path, [2, 3, 7, 16, 64], useIndex: false);
    }

    private static string CarrierFile(TempFolder temp)
    {
        // Each carrier's last aux field, XB:B:C, holds three valid records byte for byte (block_size included), so
        // that a search starting inside a carrier meets them first, finds each whole and valid, and after the third
        // lands exactly on the next real record: only the record that holds them says they are not records.
        string fakeSam = Header + string.Concat(Enumerable.Range(1, 3).Select(i => $"fake{i}\t4\t*\t0\t0\t*\t*\t0\t0\tACGTACGT\tIIIIIIII\n"));
        string fakePath = Path.Combine(temp.Path, "fakes.bam");
        File.WriteAllBytes(fakePath, Samtools.SamToBam(Encoding.ASCII.GetBytes(fakeSam)));
        byte[] fakes = [.. ShardRuns.ReadSequentially(fakePath).Records.SelectMany(r => BitConverter.GetBytes(r.Length).Concat(r))];
        string array = string.Join(',', fakes.Select(b => b.ToString(CultureInfo.InvariantCulture)));
        var random = new Random(7);
        var sam = new StringBuilder(Header);
        for (int i = 0; i < 150; i++)
        {
            int length = 300 + random.Next(400);
            sam.Append(CultureInfo.InvariantCulture, $"carrier{i}\t0\tchr1\t{1000 + (i * 5000)}\t60\t{length}M\t*\t0\t0\t{Bases(random, length)}\t{Qualities(random, length)}\tXB:B:C,{array}\n");
        }

        return Reblocked(temp, "carriers.bam", sam.ToString(), 997);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RecordsHiddenInsideARecordsArray_NeverGiveOtherRowsSilently(bool useIndex)
    {
        // A search can only prove a start by the records after it, and these are valid records: the plan may start a
        // shard at a hidden record (with an index too, where the index has no record start near a boundary: samtools'
        // BAI of a small file has few, and the BAI's linear index is not among BamIndex.RecordStarts). Then the shard before it ends inside the record that hides it, and
        // converting it fails (naming the file): a dataset of every shard is the whole run's rows or an error, never
        // other rows. (Known limit of any search-based splitter, Hadoop-BAM's and Disq's too: only an index, or reading
        // the file from its start, makes such a file's plan exact.)
        using var temp = new TempFolder();
        string path = CarrierFile(temp);
        if (useIndex)
        {
            Assert.Equal(0, Samtools.Run(null, "index", path).ExitCode);
        }

        (_, List<ArrowSam.Line> whole) = ShardRuns.Whole(path);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), whole, "carriers: whole run vs samtools view");
        var starts = ShardRuns.ReadSequentially(path).Starts.ToHashSet();
        int fooled = 0, fromIndex = 0;
        foreach (int n in new[] { 2, 7, 16, 64, 150 })
        {
            ShardPlan plan = ShardRuns.Plan(path, n, useIndex);
            fromIndex += plan.FromIndex;
            var rows = new List<List<ArrowSam.Line>>();
            BamFormatException? failure = null;
            for (int k = 1; k <= n; k++)
            {
                try
                {
                    rows.Add(ShardRuns.Shard(path, plan, k).Lines);
                }
                catch (BamFormatException e)
                {
                    failure ??= e;
                }
            }

            bool exact = plan.Starts.All(s => s == BgzfRange.EndOfFile || starts.Contains(s));
            if (exact)
            {
                Assert.Null(failure);
                ShardRuns.AssertConcatenation(whole, rows, $"carriers @ N={n}");
            }
            else
            {
                fooled++;
                Assert.True(failure is not null, $"carriers @ N={n}: the plan starts a shard inside a record, and every shard converted");
                Assert.Equal(path, failure.FileName);
            }
        }

        Assert.True(!useIndex || fromIndex > 0, "carriers: no boundary from the index");
        Assert.True(useIndex || fooled > 0, "the hidden records never fooled the search: this test no longer tests the fallback (make it harder, or make it assert exact plans)");
    }

    [Fact]
    public void ATruncatedFile_IsABamFormatExceptionNamingTheFile()
    {
        using var temp = new TempFolder();
        byte[] whole = BgzfTestWriter.Compress(LargeBam.Inflate(File.ReadAllBytes(Conversion.Fixture("sample.bam"))), 3000);
        string path = Path.Combine(temp.Path, "truncated.bam");
        File.WriteAllBytes(path, whole.AsSpan(0, whole.Length * 6 / 10).ToArray());
        BamFormatException e = FirstFailure(path, 5);
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void AFileWithMoreThan64KiBOfGarbageWhereAShardStarts_IsABgzfFormatExceptionNamingTheFile()
    {
        using var temp = new TempFolder();
        byte[] bytes = BgzfTestWriter.Compress(new LargeBam(6_000_000).Inflated(), 8000);
        int from = (bytes.Length / 2) - 30_000;
        bytes.AsSpan(from, 100_000).Clear(); // the middle, where the second of two shards would start
        string path = Path.Combine(temp.Path, "garbage.bam");
        File.WriteAllBytes(path, bytes);
        var e = Assert.ThrowsAny<BamFormatException>(() => ShardRuns.Plan(path, 2, useIndex: false));
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void BlockSearch_InMoreThan64KiBWithNoBlock_ThrowsNotBgzf()
    {
        byte[] bytes = [.. BgzfTestWriter.Compress(new byte[1000], 500, eofMarker: false), .. new byte[100_000], .. BgzfTestWriter.Compress(new byte[1000], 500)];
        long read = 0;
        var e = Assert.Throws<BgzfFormatException>(() => BgzfBlockSearch.FindBlockStart(new MemoryStream(bytes), 200, "x.bam", ref read));
        Assert.Equal("x.bam", e.FileName);
        Assert.Equal(200, e.CompressedOffset);
    }

    [Fact]
    public void BlockSearch_FindsTheNextBlock_OrTheEndOfTheFile()
    {
        byte[] first = BgzfTestWriter.Block(new byte[3000]);
        byte[] bytes = [.. first, .. BgzfTestWriter.Compress(Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray(), 10_000)];
        long read = 0;
        Assert.Equal(0, BgzfBlockSearch.FindBlockStart(new MemoryStream(bytes), 0, null, ref read));
        Assert.Equal(first.Length, BgzfBlockSearch.FindBlockStart(new MemoryStream(bytes), 1, null, ref read));
        Assert.Equal(bytes.Length, BgzfBlockSearch.FindBlockStart(new MemoryStream(bytes), bytes.Length - 10, null, ref read));
        Assert.Equal(bytes.Length, BgzfBlockSearch.FindBlockStart(new MemoryStream(bytes), bytes.Length + 10, null, ref read));
        Assert.True(read > 0);
    }

    [Fact]
    public void APlanOfAnotherFile_IsRefused()
    {
        using var temp = new TempFolder();
        string a = Path.Combine(temp.Path, "a.bam"), b = Path.Combine(temp.Path, "b.bam");
        File.Copy(Conversion.Fixture("sample.bam"), a);
        File.Copy(Conversion.Fixture("edge-cases.bam"), b);
        ShardPlan plan = ShardRuns.Plan(a, 3, useIndex: false);
        plan.CheckInput(a);
        var other = Assert.Throws<ShardPlanException>(() => plan.CheckInput(b));
        Assert.Equal(b, other.FileName);

        // A copy with a new modification time (a download on another node) is the same file; a byte changed in the
        // header's block or in the last blocks, with the size kept, is another version.
        string copy = Path.Combine(temp.Path, "copy.bam");
        File.Copy(a, copy);
        File.SetLastWriteTimeUtc(copy, File.GetLastWriteTimeUtc(a).AddHours(5));
        plan.CheckInput(copy);
        foreach (long at in new[] { 20L, new FileInfo(a).Length - 100 })
        {
            byte[] bytes = File.ReadAllBytes(a);
            bytes[at] ^= 0x5a;
            File.WriteAllBytes(copy, bytes);
            Assert.Throws<ShardPlanException>(() => plan.CheckInput(copy));
        }

        Assert.Throws<ShardPlanException>(() => plan.CheckInput(Path.Combine(temp.Path, "missing.bam")));
    }

    public static TheoryData<string> Edits => ["version 2", "version text", "starts out of order", "bad tag type", "three-letter tag", "tag twice", "no input", "count", "numbering", "start past the end", "negative start", "no shards", "not json", "not a plan", "an array"];

    [Theory]
    [MemberData(nameof(Edits))]
    public void AnEditedPlan_IsAShardPlanExceptionNamingThePlan(string edit)
    {
        ShardPlan plan = ShardRuns.Plan(Conversion.Fixture("sample.bam"), 4, useIndex: false);
        Assert.True(plan.TagScan.Columns.Count >= 2);
        JsonNode root = JsonNode.Parse(plan.ToJson())!;
        JsonArray shards = root["shards"]!.AsArray();
        JsonArray tags = root["tag_scan"]!["tags"]!.AsArray();
        string json;
        switch (edit)
        {
            case "version 2": root["bamflow_shard_plan"] = 2; break;
            case "version text": root["bamflow_shard_plan"] = "1"; break;
            case "starts out of order":
                (shards[1]!["start"], shards[2]!["start"]) = (shards[2]!["start"]!.DeepClone(), shards[1]!["start"]!.DeepClone());
                break;
            case "bad tag type": tags[0]!["type"] = "Q"; break;
            case "three-letter tag": tags[0]!["tag"] = "XYZ"; break;
            case "tag twice": tags[1]!["tag"] = tags[0]!["tag"]!.GetValue<string>(); break;
            case "no input": root.AsObject().Remove("input"); break;
            case "count": root["shard_count"] = 5; break;
            case "numbering": shards[2]!["shard"] = 7; break;
            case "start past the end": shards[3]!["start"] = (ulong)(plan.Bytes + 10) << 16; break;
            case "negative start": shards[1]!["start"] = -5; break;
            case "no shards": root["shards"] = new JsonArray(); root["shard_count"] = 0; break;
        }

        json = edit switch
        {
            "not json" => "{\"bamflow_shard_plan\": 1, ",
            "not a plan" => "{\"shards\": []}",
            "an array" => "[1, 2]",
            _ => root.ToJsonString(),
        };
        var e = Assert.Throws<ShardPlanException>(() => ShardPlan.Parse(json, "edited.json"));
        Assert.Equal("edited.json", e.FileName);
        Assert.Contains("edited.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingPlanFile_IsAShardPlanException()
    {
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "none.json");
        Assert.Equal(path, Assert.Throws<ShardPlanException>(() => ShardPlan.Load(path)).FileName);
    }

    [Fact]
    public void APlanEditedToStartInsideARecord_FailsTheShardsAroundIt()
    {
        string path = Conversion.Fixture("sample.bam");
        ShardPlan plan = ShardRuns.Plan(path, 3, useIndex: false);
        JsonNode root = JsonNode.Parse(plan.ToJson())!;
        ulong start = root["shards"]![1]!["start"]!.GetValue<ulong>();
        root["shards"]![1]!["start"] = start + 7;
        root["shards"]![0]!["end"] = start + 7;
        ShardPlan edited = ShardPlan.Parse(root.ToJsonString(), "edited.json");
        var e = Assert.ThrowsAny<BamFormatException>(() => ShardRuns.Shard(path, edited, 1));
        Assert.EndsWith("sample.bam", e.FileName, StringComparison.Ordinal);
        Assert.ThrowsAny<BamFormatException>(() => ShardRuns.Shard(path, edited, 2));
    }

    [Fact]
    public void MoreShardsThanRecords_GiveEmptyShardsWithTheSchema()
    {
        string path = Conversion.Fixture("edge-cases.bam");
        (string schema, List<ArrowSam.Line> whole) = ShardRuns.Whole(path);
        int n = whole.Count + 20;
        ShardPlan plan = ShardRuns.Plan(path, n, useIndex: false);
        (List<string> schemas, List<List<ArrowSam.Line>> rows) = ShardRuns.AllShards(path, plan);
        Assert.All(schemas, s => Assert.Equal(schema, s));
        ShardRuns.AssertConcatenation(whole, rows, $"edge-cases @ N={n}");
        Assert.Contains(rows, r => r.Count == 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EmptyBlocksBetweenRecords_WithAndWithoutSamtoolsIndex_ShardsAreTheWholeRun(bool useIndex)
    {
        // samtools never writes an empty block between records, but other writers may, and samtools' index then
        // points at the empty block where a search finds the next block: both are the same record start. (A sorted file
        // large enough that samtools keeps its bins apart, so the index has record starts all along it.)
        using var temp = new TempFolder();
        var random = new Random(12);
        var sam = new StringBuilder("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100000000\n");
        for (int i = 0, pos = 1; i < 12_000; i++)
        {
            pos += 1 + random.Next(3000);
            sam.Append(CultureInfo.InvariantCulture, $"r{i}\t0\tchr1\t{pos}\t60\t150M\t*\t0\t0\t{Bases(random, 150)}\t{Qualities(random, 150)}\n");
        }

        byte[] inflated = LargeBam.Inflate(Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString())));
        List<int> offsets = RecordOffsets(inflated);
        var file = new MemoryStream();
        int from = 0;
        for (int i = 100; i < offsets.Count; i += 100)
        {
            file.Write(BgzfTestWriter.Block(inflated.AsSpan(from, offsets[i] - from)));
            file.Write(BgzfTestWriter.Block([]));
            from = offsets[i];
        }

        file.Write(BgzfTestWriter.Block(inflated.AsSpan(from)));
        file.Write(BgzfTestWriter.EofBlock);
        string path = Path.Combine(temp.Path, "empty-blocks.bam");
        File.WriteAllBytes(path, file.ToArray());
        if (useIndex)
        {
            Assert.Equal(0, Samtools.Run(null, "index", path).ExitCode);
        }

        (string schema, List<ArrowSam.Line> whole) = ShardRuns.Whole(path);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), whole, "empty-blocks: whole run vs samtools view");
        int fromIndex = 0;
        foreach (int n in new[] { 2, 7, 16, 64 })
        {
            ShardPlan plan = ShardRuns.Plan(path, n, useIndex);
            fromIndex += plan.FromIndex;
            (List<string> schemas, List<List<ArrowSam.Line>> rows) = ShardRuns.AllShards(path, plan);
            Assert.All(schemas, s => Assert.Equal(schema, s));
            ShardRuns.AssertConcatenation(whole, rows, $"empty-blocks (index: {useIndex}) @ N={n}");
        }

        Assert.True(!useIndex || fromIndex > 0, "no boundary from the index");
    }

    [Theory]
    [InlineData("space")]
    [InlineData("utf8")]
    public void ReadNamesSamtoolsReads_SpacesOrUtf8_ArePlannedBalancedAndExact(string kind)
    {
        // SAMv1 §1.4 allows only [!-?A-~] in QNAME, but BAM files from other writers hold spaces and UTF-8, and samtools
        // reads them: a search that takes only spec names for record starts finds none in such a file (and a plan that
        // puts every record in its first shard is no plan).
        using var temp = new TempFolder();
        var random = new Random(3);
        var sam = new StringBuilder("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100000000\n");
        for (int i = 0, pos = 1; i < 3000; i++)
        {
            pos += 1 + random.Next(3000);
            sam.Append(CultureInfo.InvariantCulture, $"r_{i:D6}\t0\tchr1\t{pos}\t60\t100M\t*\t0\t0\t{Bases(random, 100)}\t{Qualities(random, 100)}\n");
        }

        byte[] inflated = LargeBam.Inflate(Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString())));
        foreach (int offset in RecordOffsets(inflated))
        {
            // read_name at 4 (block_size) + 32: "r_NNNNNN\0"; the '_' becomes a space, or 'é' (its 2 UTF-8 bytes over "_0").
            Span<byte> name = inflated.AsSpan(offset + 36, 9);
            if (kind == "space")
            {
                name[1] = (byte)' ';
            }
            else
            {
                name[1] = 0xC3;
                name[2] = 0xA9;
            }
        }

        string path = Path.Combine(temp.Path, kind + ".bam");
        File.WriteAllBytes(path, BgzfTestWriter.Compress(inflated, 20_000));
        Assert.Equal(0, Samtools.Run(null, "index", path).ExitCode);
        foreach (bool useIndex in new[] { false, true })
        {
            (string schema, List<ArrowSam.Line> whole) = ShardRuns.Whole(path);
            ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), whole, $"{kind}: whole run vs samtools view");
            foreach (int n in new[] { 3, 16 })
            {
                ShardPlan plan = ShardRuns.Plan(path, n, useIndex);
                (List<string> schemas, List<List<ArrowSam.Line>> rows) = ShardRuns.AllShards(path, plan);
                Assert.All(schemas, s => Assert.Equal(schema, s));
                ShardRuns.AssertConcatenation(whole, rows, $"{kind} names (index: {useIndex}) @ N={n}");
                Assert.True(rows.All(r => r.Count > 0), $"{kind} names (index: {useIndex}) @ N={n}: shards of {string.Join(", ", rows.Select(r => r.Count))} records");
            }
        }
    }

    /// <summary>The inflated offset of each record's block_size (SAMv1 §4.2: magic, l_text, text, n_ref, references, records).</summary>
    private static List<int> RecordOffsets(byte[] inflated)
    {
        int at = 8 + BitConverter.ToInt32(inflated, 4);
        int references = BitConverter.ToInt32(inflated, at);
        at += 4;
        for (int r = 0; r < references; r++)
        {
            at += 4 + BitConverter.ToInt32(inflated, at) + 4;
        }

        var offsets = new List<int>();
        while (at < inflated.Length)
        {
            offsets.Add(at);
            at += 4 + BitConverter.ToInt32(inflated, at);
        }

        return offsets;
    }

    /// <summary>Plans and converts every shard: the first BamFormatException (planning or converting), which must come.</summary>
    private static BamFormatException FirstFailure(string path, int shards)
    {
        try
        {
            ShardPlan plan = ShardRuns.Plan(path, shards, useIndex: false);
            for (int k = 1; k <= plan.Count; k++)
            {
                ShardRuns.Shard(path, plan, k);
            }
        }
        catch (BamFormatException e)
        {
            return e;
        }

        Assert.Fail($"{path}: planned and converted {shards} shards without an error");
        return null!;
    }

    private static void AssertShardsAreTheWholeRun(string path, int[] counts, bool useIndex)
    {
        (string schema, List<ArrowSam.Line> whole) = ShardRuns.Whole(path);
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(path), whole, $"{Path.GetFileName(path)}: whole run vs samtools view");
        var starts = ShardRuns.ReadSequentially(path).Starts.ToHashSet();
        foreach (int n in counts)
        {
            string context = $"{Path.GetFileName(path)} (index: {useIndex}) @ N={n}";
            ShardPlan plan = ShardRuns.Plan(path, n, useIndex);
            context += $" ({plan.FromIndex} boundaries from the index, {plan.FromSearch} by search; index starts: {(useIndex ? string.Join(' ', Bamflow.Bam.Index.BamIndex.Open(path, null).RecordStarts()) : "")}; plan: {string.Join(' ', plan.Starts)})";
            Assert.All(plan.Starts, s => Assert.True(s == BgzfRange.EndOfFile || starts.Contains(s), $"{context}: a shard starts at {s}, no record start"));
            (List<string> schemas, List<List<ArrowSam.Line>> rows) = ShardRuns.AllShards(path, plan);
            Assert.All(schemas, s => Assert.Equal(schema, s));
            ShardRuns.AssertConcatenation(whole, rows, context);
        }
    }

    /// <summary>samtools' BAM of <paramref name="sam"/>, re-blocked into BGZF blocks of <paramref name="blockSize"/> inflated bytes.</summary>
    private static string Reblocked(TempFolder temp, string name, string sam, int blockSize)
    {
        string path = Path.Combine(temp.Path, name);
        File.WriteAllBytes(path, BgzfTestWriter.Compress(LargeBam.Inflate(Samtools.SamToBam(Encoding.ASCII.GetBytes(sam))), blockSize));
        return path;
    }

    private static string Bases(Random random, int length) => string.Create(length, random, static (span, r) =>
    {
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = "ACGT"[r.Next(4)];
        }
    });

    private static string Qualities(Random random, int length) => string.Create(length, random, static (span, r) =>
    {
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = (char)('!' + r.Next(41));
        }
    });
}
