using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bam.Index;

/// <summary>
/// Truncated and corrupt BAI/CSI files (made by samtools 1.16 from a fixture, then damaged) always give a
/// <see cref="BamIndexException"/> of the right kind naming the index, never another exception and never an index that
/// answers differently; and <see cref="BamIndex.Open"/> / <see cref="BamIndex.Locate"/> as samtools finds indexes.
/// </summary>
public sealed class BamIndexCorruptionTests : IDisposable
{
    private readonly TempFolder _temp = new("bamflow-index-corrupt-");
    private readonly string _bam;
    private readonly BamHeader _header;
    private readonly byte[] _bai;
    private readonly byte[] _csi;        // as samtools writes it: BGZF
    private readonly byte[] _csiPlain;   // inflated

    public BamIndexCorruptionTests()
    {
        var sam = new StringBuilder("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100000\n@SQ\tSN:chr2\tLN:200000\n@SQ\tSN:chr3\tLN:5000\n");
        for (int i = 0; i < 300; i++)
        {
            sam.Append($"a{i}\t0\tchr1\t{1 + (i * 311)}\t60\t4M\t*\t0\t0\tACGT\tIIII\n");
        }

        for (int i = 0; i < 200; i++)
        {
            sam.Append($"b{i}\t{(i % 7 == 0 ? 4 : 0)}\tchr2\t{1 + (i * 977)}\t60\t{(i % 7 == 0 ? "*" : "4M")}\t*\t0\t0\tACGT\tIIII\n");
        }

        sam.Append("u1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\nu2\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n");
        _bam = Path.Combine(_temp.Path, "in.bam");
        File.WriteAllBytes(_bam, Samtools.SamToBam(Encoding.ASCII.GetBytes(sam.ToString())));
        _bai = MakeIndex([], ".bai");
        _csi = MakeIndex(["-c"], ".csi");
        using (var gzip = new GZipStream(new MemoryStream(_csi), CompressionMode.Decompress))
        using (var inflated = new MemoryStream())
        {
            gzip.CopyTo(inflated);
            _csiPlain = inflated.ToArray();
        }

        using BamReader reader = BamReader.Open(_bam);
        _header = reader.Header;
    }

    public void Dispose() => _temp.Dispose();

    private byte[] MakeIndex(string[] options, string suffix)
    {
        (int code, _, string error) = Samtools.Run(null, ["index", .. options, _bam, _bam + suffix]);
        Assert.True(code == 0, error);
        byte[] bytes = File.ReadAllBytes(_bam + suffix);
        File.Delete(_bam + suffix);
        return bytes;
    }

    public static TheoryData<string> Kinds() => ["bai", "bai.gz", "csi", "csi-plain"];

    private byte[] Bytes(string kind) => kind switch
    {
        "bai" => _bai,
        "bai.gz" => Gzip(_bai),
        "csi" => _csi,
        _ => _csiPlain,
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Read_EveryTruncation_ThrowsOrAnswersAsTheWholeIndex(string kind)
    {
        byte[] whole = Bytes(kind);
        Assert.True(whole.Length < 4000, $"{kind}: {whole.Length} bytes");
        BamIndex reference = BamIndex.Read(new MemoryStream(whole), "whole");
        Assert.Equal(3, reference.ReferenceCount);
        Assert.Equal(2UL, reference.UnplacedCount);
        int thrown = 0;
        for (int length = 0; length < whole.Length; length++)
        {
            string path = Path.Combine(_temp.Path, $"cut{length}.{kind}");
            File.WriteAllBytes(path, whole[..length]);
            BamIndex? index = null;
            try
            {
                index = BamIndex.Read(path);
            }
            catch (BamIndexException e)
            {
                thrown++;
                Assert.True(e.Kind is BamIndexError.Truncated or BamIndexError.Corrupt, $"{kind} cut at {length}: {e.Kind}");
                AssertNames(e, path);
            }

            if (index is not null)
            {
                // Accepted only where nothing that matters is lost: BAI's optional n_no_coor (htslib reads it only if
                // present), or the compressed form's EOF block / gzip trailer.
                AssertSameAnswers(reference, index, $"{kind} cut at {length}");
                Assert.True(index.UnplacedCount is null || index.UnplacedCount == 2, $"{kind} cut at {length}");
                Assert.True(kind.StartsWith("csi", StringComparison.Ordinal) || kind == "bai.gz" || length >= whole.Length - 8, $"{kind} cut at {length} was accepted");
            }

            File.Delete(path);
        }

        Assert.True(thrown >= whole.Length - 40, $"{kind}: only {thrown} of {whole.Length} cuts refused");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Read_BadMagic_Corrupt(string kind)
    {
        byte[] bytes = kind.EndsWith("csi", StringComparison.Ordinal) ? (byte[])_csiPlain.Clone() : (byte[])_bai.Clone();
        for (int i = 0; i < 4; i++)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[i] ^= 0x20;
            if (kind is "bai.gz" or "csi")
            {
                copy = Gzip(copy);
            }

            BamIndexException e = AssertRefused(copy, kind, BamIndexError.Corrupt);
            Assert.Equal(0, e.CompressedOffset);
        }
    }

    [Theory]
    [InlineData("bai", 1)]
    [InlineData("bai", -1)]
    [InlineData("csi-plain", 1)]
    [InlineData("csi-plain", -1)]
    public void Open_ReferenceCountOffByOne_Refused(string kind, int delta)
    {
        byte[] bytes = (byte[])(kind == "bai" ? _bai : _csiPlain).Clone();
        int at = NRefOffset(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), 3 + delta);
        string path = _bam + (kind == "bai" ? ".bai" : ".csi");
        File.WriteAllBytes(path, bytes);
        try
        {
            // One more: the data ends inside the extra reference. One fewer: parses (the last reference is read as
            // n_no_coor, as htslib would) but does not match the header's 3 references.
            BamIndexException e = Assert.Throws<BamIndexException>(() => RegionQuery.Create(_header, ["chr1"], false, null, () => BamIndex.Open(_bam, null)));
            Assert.Equal(delta > 0 ? BamIndexError.Truncated : BamIndexError.ReferenceCountMismatch, e.Kind);
            AssertNames(e, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("bai")]
    [InlineData("csi-plain")]
    public void Open_ChunkBeyondBamEnd_Corrupt(string kind)
    {
        byte[] bytes = (byte[])(kind == "bai" ? _bai : _csiPlain).Clone();
        int firstChunk = FirstBinOffset(bytes, kind != "bai") + (kind == "bai" ? 8 : 16);
        ulong beyond = (ulong)(new FileInfo(_bam).Length + 100) << 16;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(firstChunk + 8), beyond); // the first chunk's end
        string path = Path.Combine(_temp.Path, "beyond." + kind);
        File.WriteAllBytes(path, bytes);
        BamIndex.Read(path); // well-formed by itself
        BamIndexException e = Assert.Throws<BamIndexException>(() => BamIndex.Open(_bam, path));
        Assert.Equal(BamIndexError.Corrupt, e.Kind);
        AssertNames(e, path);
    }

    /// <summary>Counts of bins, chunks, intervals, references and aux bytes near int.MaxValue: refused by the remaining bytes, without allocating for them.</summary>
    [Theory]
    [InlineData("bai", "n_ref")]
    [InlineData("bai", "n_bin")]
    [InlineData("bai", "n_chunk")]
    [InlineData("bai", "n_intv")]
    [InlineData("csi-plain", "n_ref")]
    [InlineData("csi-plain", "n_bin")]
    [InlineData("csi-plain", "n_chunk")]
    [InlineData("csi-plain", "l_aux")]
    public void Read_HugeCount_TruncatedWithoutAllocating(string kind, string field)
    {
        bool csi = kind != "bai";
        byte[] bytes = (byte[])(csi ? _csiPlain : _bai).Clone();
        int nRef = NRefOffset(bytes);
        int at = field switch
        {
            "n_ref" => nRef,
            "n_bin" => nRef + 4,
            "n_chunk" => FirstBinOffset(bytes, csi) + (csi ? 12 : 4),
            "l_aux" => 12,
            _ => LinearOffset(bytes),
        };
        foreach (int count in new[] { int.MaxValue, int.MaxValue / 8, 1 << 24 })
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), count);
            long before = GC.GetAllocatedBytesForCurrentThread();
            BamIndexException e = AssertRefused(bytes, kind, BamIndexError.Truncated);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1 << 20, $"{kind} {field}={count}: allocated {allocated} bytes");
            Assert.NotNull(e.CompressedOffset);
        }

        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), -1);
        AssertRefused(bytes, kind, BamIndexError.Corrupt);
    }

    [Fact]
    public void Open_NoIndex_MissingSaysHowToMakeOne()
    {
        BamIndexException e = Assert.Throws<BamIndexException>(() => BamIndex.Open(_bam, null));
        Assert.Equal(BamIndexError.Missing, e.Kind);
        Assert.Contains($"bamflow index {_bam}", e.Message, StringComparison.Ordinal);

        string given = Path.Combine(_temp.Path, "nowhere.bai");
        e = Assert.Throws<BamIndexException>(() => BamIndex.Open(_bam, given));
        Assert.Equal(BamIndexError.Missing, e.Kind);
        AssertNames(e, given);
    }

    [Fact]
    public void Open_IndexOlderThanBam_Stale()
    {
        File.WriteAllBytes(_bam + ".bai", _bai);
        File.SetLastWriteTimeUtc(_bam, DateTime.UtcNow);
        File.SetLastWriteTimeUtc(_bam + ".bai", DateTime.UtcNow.AddSeconds(-10));
        BamIndexException e = Assert.Throws<BamIndexException>(() => BamIndex.Open(_bam, null));
        Assert.Equal(BamIndexError.Stale, e.Kind);
        AssertNames(e, _bam + ".bai");
        Assert.Contains($"bamflow index {_bam}", e.Message, StringComparison.Ordinal);

        File.SetLastWriteTimeUtc(_bam + ".bai", DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(3, BamIndex.Open(_bam, null).ReferenceCount);
        File.Delete(_bam + ".bai");
    }

    /// <summary>
    /// samtools 1.16's search order, shown by putting a good index under one name and a broken one under another: the
    /// broken one wins exactly when samtools fails; and <c>IN.bam##idx##PATH</c> beats all.
    /// </summary>
    [Theory]
    [InlineData("in.bam.csi", "in.csi")]
    [InlineData("in.csi", "in.bam.bai")]
    [InlineData("in.bam.bai", "in.bai")]
    [InlineData("in.bam.csi", "in.bam.bai")]
    [InlineData("in.csi", "in.bai")]
    public void Locate_TwoIndexes_TheOneSamtoolsUses(string first, string second)
    {
        foreach ((string good, string broken) in new[] { (first, second), (second, first) })
        {
            string goodPath = Path.Combine(_temp.Path, good), brokenPath = Path.Combine(_temp.Path, broken);
            File.WriteAllBytes(goodPath, good.EndsWith(".csi", StringComparison.Ordinal) ? _csi : _bai);
            File.WriteAllBytes(brokenPath, _bai[..20]);
            (int code, byte[] stdout, _) = Samtools.Run(null, "view", "-c", _bam, "chr1");
            bool samtoolsUsesGood = code == 0 && Encoding.ASCII.GetString(stdout).Trim() == "300";
            Assert.Equal(good == first, samtoolsUsesGood); // the first name is the one searched first
            Assert.Equal(samtoolsUsesGood ? goodPath : brokenPath, BamIndex.Locate(_bam));
            File.Delete(goodPath);
            File.Delete(brokenPath);
        }

        string other = Path.Combine(_temp.Path, "elsewhere.idx");
        File.WriteAllBytes(other, _csi);
        File.WriteAllBytes(_bam + ".bai", _bai[..20]);
        string spec = _bam + "##idx##" + other;
        (int c, byte[] o, string err) = Samtools.Run(null, "view", "-c", spec, "chr1");
        Assert.True(c == 0 && Encoding.ASCII.GetString(o).Trim() == "300", err);
        Assert.Equal(other, BamIndex.Locate(spec));
        Assert.Equal(_bam, BamIndex.DataPath(spec));
        Assert.True(BamIndex.Open(spec, null).IsCsi);
        File.Delete(_bam + ".bai");
        File.Delete(other);
    }

    private BamIndexException AssertRefused(byte[] bytes, string kind, BamIndexError expected)
    {
        string path = Path.Combine(_temp.Path, "bad." + kind);
        File.WriteAllBytes(path, bytes);
        BamIndexException e = Assert.Throws<BamIndexException>(() => BamIndex.Read(path));
        Assert.Equal(expected, e.Kind);
        AssertNames(e, path);
        return e;
    }

    private static void AssertNames(BamIndexException e, string path)
    {
        Assert.Equal(path, e.FileName);
        Assert.Contains(Path.GetFileName(path), e.Message, StringComparison.Ordinal);
    }

    private void AssertSameAnswers(BamIndex expected, BamIndex actual, string label)
    {
        Assert.Equal(expected.ReferenceCount, actual.ReferenceCount);
        for (int tid = 0; tid < expected.ReferenceCount; tid++)
        {
            Assert.True(expected.Counts(tid) == actual.Counts(tid), $"{label}: counts of {tid}");
            for (long begin = 0; begin < _header.References[tid].Length; begin += 7919)
            {
                Assert.True(expected.Query(tid, begin, begin + 5000).SequenceEqual(actual.Query(tid, begin, begin + 5000)), $"{label}: {tid}:{begin}");
            }
        }
    }

    private static byte[] Gzip(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        return output.ToArray();
    }

    private static bool IsCsi(byte[] bytes) => bytes[0] == 'C';

    private static int NRefOffset(byte[] bytes) => IsCsi(bytes) ? 16 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12)) : 4;

    /// <summary>The first bin record of reference 0 (its bin number).</summary>
    private static int FirstBinOffset(byte[] bytes, bool csi)
    {
        int at = NRefOffset(bytes) + 4;
        Assert.True(BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)) > 0);
        _ = csi;
        return at + 4;
    }

    /// <summary>BAI: reference 0's n_intv.</summary>
    private static int LinearOffset(byte[] bytes)
    {
        int at = NRefOffset(bytes) + 4;
        int bins = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
        at += 4;
        for (int b = 0; b < bins; b++)
        {
            at += 8 + (16 * BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 4)));
        }

        return at;
    }
}
