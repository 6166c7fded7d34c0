using System.Diagnostics;
using System.Text;
using Bamflow.Bam;
using Bamflow.Bgzf;

namespace Bamflow.Tests.Support;

/// <summary>Compares Bamflow's SAM rendering of a BAM file with what samtools prints for it, line by line.</summary>
public static class SamComparison
{
    /// <summary>The outcome of decoding a file with Bamflow while comparing it with samtools.</summary>
    public sealed record Outcome(long Records, BamFormatException? Error, bool MissingEofMarker, int SamtoolsExitCode, long SamtoolsLines);

    /// <summary>
    /// Streams <c>samtools view --no-PG</c> of <paramref name="path"/> and Bamflow's rendering side by side and
    /// fails at the first differing line, naming the case, record and first differing column. Records Bamflow
    /// decodes before an error must equal samtools' lines; the error (if any) is returned, not thrown.
    /// </summary>
    public static Outcome CompareRecords(string path, string context, BgzfInflaterKind inflater = BgzfInflaterKind.Auto)
    {
        using Process samtools = Samtools.Start("view", "--no-PG", path);
        samtools.StandardInput.Close();
        Task<string> stderr = samtools.StandardError.ReadToEndAsync();
        Stream expected = new BufferedStream(samtools.StandardOutput.BaseStream, 1 << 16);
        var line = new TextBuffer(1 << 16);
        var expectedLine = new List<byte>(1 << 16);
        long records = 0;
        BamFormatException? error = null;
        bool missingEof = false;
        try
        {
            using var reader = new BamReader(File.OpenRead(path), path, inflater: BgzfInflater.Create(inflater));
            try
            {
                while (reader.TryRead(out BamRecord record))
                {
                    line.Clear();
                    SamFormatter.AppendRecord(record, reader.Header, line);
                    if (!ReadLine(expected, expectedLine))
                    {
                        Assert.Fail($"{context}: Bamflow decoded record {records + 1} but samtools printed only {records} records");
                    }

                    AssertSameLine(expectedLine, line.WrittenSpan, $"{context} @ record {records + 1}");
                    records++;
                }

                missingEof = reader.MissingEofMarker;
            }
            catch (BamFormatException e)
            {
                error = e;
            }
        }
        catch (BamFormatException e)
        {
            error = e; // the header failed
        }

        long extra = 0;
        while (ReadLine(expected, expectedLine))
        {
            extra++;
        }

        samtools.WaitForExit();
        if (extra > 0)
        {
            Assert.Fail($"{context}: samtools printed {records + extra} records, Bamflow decoded {records} (error: {error?.Message ?? "none"}; samtools: {stderr.Result.Trim()})");
        }

        return new Outcome(records, error, missingEof, samtools.ExitCode, records + extra);
    }

    /// <summary>Fails unless the two lines are equal, reporting the first differing tab-separated column.</summary>
    public static void AssertSameLine(IReadOnlyList<byte> expected, ReadOnlySpan<byte> actual, string context)
    {
        byte[] expectedBytes = expected as byte[] ?? [.. expected];
        if (actual.SequenceEqual(expectedBytes))
        {
            return;
        }

        string[] e = Encoding.UTF8.GetString(expectedBytes).Split('\t');
        string[] a = Encoding.UTF8.GetString(actual).Split('\t');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string ei = i < e.Length ? e[i] : "(missing)";
            string ai = i < a.Length ? a[i] : "(missing)";
            if (ei != ai)
            {
                Assert.Fail($"{context}, column {i + 1}: samtools '{Clip(ei)}' but Bamflow '{Clip(ai)}'");
            }
        }

        Assert.Fail($"{context}: lines differ");
    }

    private static string Clip(string s) => s.Length > 200 ? s[..200] + $"…({s.Length} chars)" : s;

    private static bool ReadLine(Stream stream, List<byte> line)
    {
        line.Clear();
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            if (b == '\n')
            {
                return true;
            }

            line.Add((byte)b);
        }

        return line.Count > 0;
    }
}
