using System.Diagnostics;
using System.Text.Json;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Arrow;

/// <summary>
/// The output opens in an independent Arrow implementation: JavaScript's apache-arrow under Node
/// (tests/interop-js; install with <c>npm ci --prefix tests/interop-js</c>, as .ci/run does).
/// </summary>
public sealed class JavaScriptReaderTests
{
    [Theory]
    [InlineData("edge-cases.bam", ArrowIpcFormat.File)]
    [InlineData("sample.bam", ArrowIpcFormat.Stream)]
    public void ApacheArrowJs_ReadsOutput_RowsSchemaMetadataAndValuesAgree(string fixture, ArrowIpcFormat format)
    {
        string input = Conversion.Fixture(fixture);
        string output = Path.Combine(Path.GetTempPath(), $"bamflow-js-{Guid.NewGuid():N}.arrow");
        try
        {
            (byte[] ipc, _) = Conversion.ToIpc(input, format: format);
            File.WriteAllBytes(output, ipc);
            List<ArrowSam.Line> samtools = ArrowSam.SamtoolsLines(input);

            using JsonDocument js = ReadWithNode(output, validate: true);
            JsonElement root = js.RootElement;

            Assert.Equal(samtools.Count, root.GetProperty("rows").GetInt32());
            string[] names = [.. root.GetProperty("schema").EnumerateArray().Select(f => f.GetProperty("name").GetString()!)];
            Assert.Equal(["qname", "flag", "rname", "pos", "mapq", "cigar", "rnext", "pnext", "tlen", "seq", "qual", "end", "tags", "tags_other"], names);
            JsonElement rname = root.GetProperty("schema")[2];
            Assert.Equal("Dictionary<Int32, Utf8>", rname.GetProperty("type").GetString());
            JsonElement nm = root.GetProperty("schema")[12].GetProperty("children").EnumerateArray().First(c => c.GetProperty("name").GetString() == "NM");
            Assert.Equal("Int64", nm.GetProperty("type").GetString());
            Assert.Equal("i", nm.GetProperty("metadata").GetProperty("sam.type").GetString());
            Assert.StartsWith("@HD", root.GetProperty("metadata").GetProperty("sam.header").GetString(), StringComparison.Ordinal);
            for (int row = 0; row < root.GetProperty("sample").GetArrayLength(); row++)
            {
                JsonElement values = root.GetProperty("sample")[row];
                string[] fields = samtools[row].Fields.Split('\t');
                Assert.Equal(fields[0], values.GetProperty("qname").GetString());
                Assert.Equal(fields[1], values.GetProperty("flag").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(fields[2], values.GetProperty("rname").ValueKind == JsonValueKind.Null ? "*" : values.GetProperty("rname").GetString());
                Assert.Equal(fields[3], values.GetProperty("pos").ValueKind == JsonValueKind.Null ? "0" : values.GetProperty("pos").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(fields[5], values.GetProperty("cigar").GetString() ?? "*");
                Assert.Equal(fields[9], values.GetProperty("seq").GetString() ?? "*");
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void ApacheArrowJs_TagsThatDifferOnlyInCase_ChildNamesExactTagsAndValuesAgree()
    {
        string input = Conversion.Fixture("case-tags.bam");
        string output = Path.Combine(Path.GetTempPath(), $"bamflow-js-{Guid.NewGuid():N}.arrow");
        try
        {
            (byte[] ipc, _) = Conversion.ToIpc(input);
            File.WriteAllBytes(output, ipc);
            List<ArrowSam.Line> samtools = ArrowSam.SamtoolsLines(input);

            using JsonDocument js = ReadWithNode(output);
            JsonElement root = js.RootElement;

            JsonElement[] children = [.. root.GetProperty("schema")[12].GetProperty("children").EnumerateArray()];
            Assert.Equal(TagNamingTests.CaseTagsChildren.Select(c => c.Name), children.Select(c => c.GetProperty("name").GetString()));
            Assert.Equal(TagNamingTests.CaseTagsChildren.Select(c => c.Tag), children.Select(c => c.GetProperty("metadata").GetProperty("sam.tag").GetString()));
            for (int row = 0; row < root.GetProperty("sample").GetArrayLength(); row++)
            {
                JsonElement tags = root.GetProperty("sample")[row].GetProperty("tags");
                var expected = samtools[row].Tags.ToDictionary(t => t[..2], t => t[3..], StringComparer.Ordinal);
                foreach ((string name, string tag, string type) in TagNamingTests.CaseTagsChildren.Where(c => c.Type is "i" or "Z" or "mixed"))
                {
                    JsonElement value = tags.GetProperty(name);
                    string? actual = value.ValueKind == JsonValueKind.Null ? null : type == "mixed" ? value.GetString() : type + ":" + value.GetString();
                    Assert.True(expected.GetValueOrDefault(tag) == actual, $"JS tags.{name} (tag {tag}) @ row {row + 1}: samtools {expected.GetValueOrDefault(tag)}, JS {actual}");
                }
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>
    /// README says JavaScript's apache-arrow cannot open <c>--compression lz4|zstd</c> IPC: it ships no codec (an
    /// application may register one in its <c>compressionRegistry</c>). If a later version reads them, this fails
    /// and README must be updated.
    /// </summary>
    [Theory]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public void ApacheArrowJs_CompressedIpc_FailsForWantOfACodec(string compression)
    {
        string output = Path.Combine(Path.GetTempPath(), $"bamflow-js-{Guid.NewGuid():N}.arrow");
        try
        {
            var result = BamflowCli.Run("convert", Conversion.Fixture("sample.bam"), "-o", output, "--compression", compression, "--quiet");
            Assert.True(result.ExitCode == 0, result.Stderr);

            (int exitCode, _, string stderr) = RunNode(output);

            Assert.NotEqual(0, exitCode);
            Assert.Contains("compressed but codec not found", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>
    /// Reads <paramref name="arrowPath"/> with apache-arrow (tests/interop-js/read-arrow.mjs); with
    /// <paramref name="validate"/> the script also checks every buffer, dictionary key and Utf8 value as a strict
    /// reader would, and the test fails with its message when the file is not valid Arrow.
    /// </summary>
    internal static JsonDocument ReadWithNode(string arrowPath, bool validate = false)
    {
        (int exitCode, string stdout, string stderr) = RunNode(arrowPath, validate);
        Assert.True(exitCode == 0, $"apache-arrow (JS) could not read the file: {stderr}");
        return JsonDocument.Parse(stdout);
    }

    /// <summary>Runs read-arrow.mjs on <paramref name="arrowPath"/> (skips the test where apache-arrow is not installed, fails it under CI).</summary>
    private static (int ExitCode, string Stdout, string Stderr) RunNode(string arrowPath, bool validate = false)
    {
        string folder = Path.Combine(SharedData.RepositoryRoot, "tests", "interop-js");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "apache-arrow")))
        {
            string message = $"apache-arrow is not installed in {folder}: run npm ci --prefix tests/interop-js";
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            {
                Assert.Fail(message);
            }

            Assert.Skip(message);
        }

        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        info.ArgumentList.Add("read-arrow.mjs");
        info.ArgumentList.Add(arrowPath);
        if (validate)
        {
            info.ArgumentList.Add("--validate");
        }
        using Process node = Process.Start(info)!;
        Task<string> stderr = node.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stdout = node.StandardOutput.ReadToEnd();
        node.WaitForExit();
        return (node.ExitCode, stdout, stderr.Result);
    }
}
