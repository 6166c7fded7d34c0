using System.Text;
using Bamflow.Bam;

namespace Bamflow.Tests.Support;

/// <summary>Helpers for tests that build BAM records from byte literals.</summary>
public static class RecordLiterals
{
    /// <summary>Each aux field of <paramref name="record"/> as its SAM text (<c>NM:i:2</c>), in stored order.</summary>
    public static List<string> AuxTexts(BamRecord record)
    {
        var texts = new List<string>();
        var text = new TextBuffer();
        foreach (AuxField field in record.AuxFields)
        {
            text.Clear();
            SamFormatter.AppendAux(field, text);
            texts.Add(Encoding.ASCII.GetString(text.WrittenSpan));
        }

        return texts;
    }

    /// <summary>What <c>samtools view</c> prints (without the final newline) for a BAM file holding just this record.</summary>
    public static byte[] SamtoolsView(byte[] record, IReadOnlyList<(string Name, int Length)> references)
    {
        byte[] bam = BgzfTestWriter.Compress(BgzfTestWriter.BamBytes("", references, record));
        (int code, byte[] stdout, string stderr) = Samtools.Run(bam, "view", "--no-PG", "-");
        Assert.True(code == 0, "samtools view failed: " + stderr);
        return stdout.AsSpan().TrimEnd((byte)'\n').ToArray();
    }
}
