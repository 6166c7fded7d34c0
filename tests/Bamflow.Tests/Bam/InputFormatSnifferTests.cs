using Bamflow.Bam;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Bam;

/// <summary>The content sniffer on real files of each format, and on byte literals for the edge cases.</summary>
public sealed class InputFormatSnifferTests
{
    [Fact]
    public void Detect_SharedCorpus_NamesEveryFileByItsFolder()
    {
        string root = SharedData.Require();
        (string Folder, string Pattern, InputFormat Expected)[] cases =
        [
            ("data/bam", "*.bam", InputFormat.Bgzf),
            ("data/cram", "*.cram", InputFormat.Cram),
            ("data/sam", "*.sam", InputFormat.Sam),
        ];
        foreach ((string folder, string pattern, InputFormat expected) in cases)
        {
            string[] files = Directory.GetFiles(Path.Combine(root, folder), pattern);
            Assert.NotEmpty(files);
            foreach (string file in files)
            {
                Assert.True(expected == InputFormatSniffer.Detect(Head(file)), $"{file}: {InputFormatSniffer.Detect(Head(file))}");
            }
        }
    }

    [Fact]
    public void Detect_ByteLiterals_NameTheEdgeCases()
    {
        Assert.Equal(InputFormat.Empty, InputFormatSniffer.Detect([]));
        Assert.Equal(InputFormat.UncompressedBam, InputFormatSniffer.Detect("BAM\u0001\0\0\0\0"u8));
        Assert.Equal(InputFormat.Gzip, InputFormatSniffer.Detect([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])); // FLG = 0: no FEXTRA
        Assert.Equal(InputFormat.Sam, InputFormatSniffer.Detect("@HD\tVN:1.6\n"u8));
        Assert.Equal(InputFormat.Sam, InputFormatSniffer.Detect("r1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\t*\n"u8)); // no header
        Assert.Equal(InputFormat.Text, InputFormatSniffer.Detect("hello\tworld\n"u8));
        Assert.Equal(InputFormat.Unknown, InputFormatSniffer.Detect([0x00, 0x01, 0x02, 0x03]));
        Assert.Equal(InputFormat.Bgzf, InputFormatSniffer.Detect(BgzfTestWriter.EofBlock));
    }

    private static byte[] Head(string path)
    {
        using FileStream stream = File.OpenRead(path);
        byte[] head = new byte[InputFormatSniffer.HeadLength];
        return head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
    }
}
