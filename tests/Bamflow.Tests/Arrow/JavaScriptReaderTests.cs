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

    /// <summary>
    /// Reads <paramref name="arrowPath"/> with apache-arrow (tests/interop-js/read-arrow.mjs); with
    /// <paramref name="validate"/> the script also checks every buffer, dictionary key and Utf8 value as a strict
    /// reader would, and the test fails with its message when the file is not valid Arrow.
    /// </summary>
    internal static JsonDocument ReadWithNode(string arrowPath, bool validate = false)
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
        Assert.True(node.ExitCode == 0, $"apache-arrow (JS) could not read the file: {stderr.Result}");
        return JsonDocument.Parse(stdout);
    }
}
