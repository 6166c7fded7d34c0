using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Corpus;

/// <summary>Every record and header of every corpus file, as samtools shows it.</summary>
public sealed class CorpusAgreementTests
{
    public static TheoryData<string> GoodFiles => [.. SharedData.CorpusFiles(bad: false)];

    public static TheoryData<string> BadFiles => [.. SharedData.CorpusFiles(bad: true)];

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void Header_CorpusFile_MatchesSamtoolsViewH(string name)
    {
        string path = SharedData.CorpusPath(name);
        (int code, byte[] expected, string error) = Samtools.Run(null, "view", "-H", "--no-PG", path);
        Assert.True(code == 0, $"{name}: samtools failed: {error}");

        using BamReader reader = BamReader.Open(path);
        byte[] actual = reader.Header.ToSamText();
        Assert.True(expected.AsSpan().SequenceEqual(actual),
            $"{name}: header differs from samtools view -H at byte {expected.AsSpan().CommonPrefixLength(actual)} (samtools {expected.Length} bytes, Bamflow {actual.Length})");
    }

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void Records_CorpusFile_MatchSamtoolsView(string name)
    {
        string path = SharedData.CorpusPath(name);
        SamComparison.Outcome outcome = SamComparison.CompareRecords(path, name);
        Assert.Null(outcome.Error);
        Assert.Equal(0, outcome.SamtoolsExitCode);
        Assert.False(outcome.MissingEofMarker, $"{name}: has an EOF marker block");
    }

    [CorpusTheory]
    [MemberData(nameof(BadFiles))]
    public void Records_BrokenFile_MatchSamtoolsUntilTypedErrorOrWarning(string name)
    {
        string path = SharedData.CorpusPath(name);
        SamComparison.Outcome outcome = SamComparison.CompareRecords(path, name);
        if (outcome.SamtoolsExitCode == 0)
        {
            // samtools reads it all and only warns: the EOF marker block is missing. So do we.
            Assert.Null(outcome.Error);
            Assert.True(outcome.MissingEofMarker, $"{name}: samtools read it cleanly, so the only fault should be the missing EOF block");
        }
        else
        {
            Assert.NotNull(outcome.Error);
            Assert.Equal(path, outcome.Error.FileName);
            Assert.Equal(outcome.SamtoolsLines, outcome.Records);
        }
    }

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void Inflaters_CorpusFile_ProduceIdenticalBlocks(string name)
    {
        if (!BgzfInflater.IsLibDeflateAvailable)
        {
            Assert.Skip("libdeflate is not installed here");
        }

        string path = SharedData.CorpusPath(name);
        byte[] file = File.ReadAllBytes(path);
        using var frames = new BgzfFrameReader(new MemoryStream(file), name);
        using IBgzfInflater libdeflate = BgzfInflater.Create(BgzfInflaterKind.LibDeflate);
        using IBgzfInflater managed = BgzfInflater.Create(BgzfInflaterKind.Managed);
        byte[] frame = new byte[BgzfFrame.MaxLength];
        byte[] a = new byte[BgzfFrame.MaxInflatedSize], b = new byte[BgzfFrame.MaxInflatedSize];
        int blocks = 0;
        while (frames.TryReadFrame(frame, out BgzfFrame info))
        {
            int na = BgzfBlockDecoder.Decode(libdeflate, frame, info, a, name);
            int nb = BgzfBlockDecoder.Decode(managed, frame, info, b, name);
            Assert.True(a.AsSpan(0, na).SequenceEqual(b.AsSpan(0, nb)), $"{name}: block at {info.CompressedOffset} inflates differently");
            blocks++;
        }

        Assert.True(blocks > 0);
    }
}
