using System.Globalization;
using Bamflow.Bam;
using Bamflow.Bam.Index;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Regions;

/// <summary>
/// Region queries end to end, against samtools view as the oracle: for every BAM of the corpus that can be indexed
/// (its own index where it ships one, else a BAI made by samtools, and a CSI too), 200 random regions — single bases,
/// edges at 1 and at the reference end, past the end, whole references, '*', open ends, overlapping ones — in groups,
/// without and with -M, and BED files alone, with regions and with -M; the engine's rows (every field, as
/// <c>samtools view</c> prints it) equal samtools' for the same arguments, duplicates and order included.
/// </summary>
public sealed class RegionFidelityTests
{
    private const int RegionsPerFile = 200;
    private const int GroupSize = 25;

    public static TheoryData<string> GoodFiles => [.. SharedData.CorpusFiles(bad: false)];

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void RandomRegions_AreSamtoolsRows_ThroughBaiAndCsi(string name)
    {
        string source = SharedData.CorpusPath(name);
        using var temp = new TempFolder();
        List<(string Path, string Kind)> indexed = Indexed(source, temp.Path);
        if (indexed.Count == 0)
        {
            // Not coordinate-sorted (samtools cannot index it): a region query must refuse it, naming the missing index.
            string copy = Path.Combine(temp.Path, Path.GetFileName(source));
            File.Copy(source, copy);
            using BamReader reader = BamReader.Open(copy);
            var e = Assert.ThrowsAny<BamFormatException>(() => RegionQuery.Create(reader.Header, ["*"], false, null, () => BamIndex.Open(copy, null)));
            Assert.Contains("bamflow index", e.Message, StringComparison.Ordinal);
            return;
        }

        var random = new Random(StableSeed(name));
        List<string> regions = RandomRegions(source, random, RegionsPerFile);
        bool first = true;
        foreach ((string path, string kind) in indexed)
        {
            // Every region through the file's first index; a quarter of them through the others (CSI: the same queries
            // through another binning; RegionQueryOracleTests covers CSI depths and min_shifts).
            List<string> these = first ? regions : regions[..(regions.Count / 4)];
            first = false;
            for (int at = 0; at < these.Count; at += GroupSize)
            {
                string[] group = [.. these.Skip(at).Take(GroupSize)];
                AssertSameRows(path, group, multiRegion: false, bed: null, $"{name} ({kind}) {string.Join(' ', group)}");
                string[] merged = [.. group.Where(SamtoolsMultiRegionReads)];
                AssertSameRows(path, merged, multiRegion: true, bed: null, $"{name} ({kind}) -M {string.Join(' ', merged)}");
            }

            // BED files: alone (the index reads only their regions), with regions, with -M.
            for (int i = 0; i < 6; i++)
            {
                string bed = Path.Combine(temp.Path, $"{kind}-{i}.bed");
                File.WriteAllLines(bed, RandomBed(source, random, 1 + random.Next(8)));
                string[] group = [.. regions.Skip(i * 3).Take(1 + (i % 3))];
                AssertSameRows(path, [], multiRegion: false, bed, $"{name} ({kind}) -L {File.ReadAllText(bed)}");
                AssertSameRows(path, group, multiRegion: false, bed, $"{name} ({kind}) -L bed {string.Join(' ', group)}");
                string[] merged = [.. group.Where(SamtoolsMultiRegionReads)];
                if (merged.Length > 0 && SamtoolsAccepts(path, merged, bed))
                {
                    AssertSameRows(path, merged, multiRegion: true, bed, $"{name} ({kind}) -M -L bed {string.Join(' ', merged)}");
                }
            }
        }
    }

    [CorpusTheory]
    [MemberData(nameof(GoodFiles))]
    public void BedWithoutIndex_FiltersTheWholeFileAsSamtools(string name)
    {
        string source = SharedData.CorpusPath(name);
        using var temp = new TempFolder();
        string copy = Path.Combine(temp.Path, Path.GetFileName(source)); // no index beside it
        File.Copy(source, copy);
        var random = new Random(StableSeed(name) ^ 7919);
        string bed = Path.Combine(temp.Path, "t.bed");
        for (int i = 0; i < 3; i++)
        {
            File.WriteAllLines(bed, RandomBed(source, random, 1 + random.Next(6)));
            AssertSameRows(copy, [], multiRegion: false, bed, $"{name} (no index) -L {File.ReadAllText(bed)}");
        }
    }

    /// <summary>
    /// samtools 1.16's -M parses regions with an older parser: 'chr:beg-' and '{name}' name unknown references (skipped)
    /// and 'chr:-end' the whole reference. bamflow parses them as without -M (README: differences), so -M cases leave
    /// them out.
    /// </summary>
    private static bool SamtoolsMultiRegionReads(string region) =>
        !region.EndsWith('-') && !region.Contains(":-", StringComparison.Ordinal) && !region.StartsWith('{');

    private static int StableSeed(string name) => name.Aggregate(17, (hash, c) => (hash * 31) + c) & 0x7fffffff;

    /// <summary>Converts the selection in-process and compares every row with samtools view's for the same arguments.</summary>
    internal static void AssertSameRows(string path, string[] regions, bool multiRegion, string? bed, string context)
    {
        string[] options = [.. multiRegion ? ["-M"] : Array.Empty<string>(), .. bed is null ? [] : new[] { "-L", bed }];
        (int code, byte[] stdout, string stderr) = Samtools.Run(null, ["view", "--no-PG", .. options, path, .. regions]);
        if (code != 0)
        {
            // samtools itself fails (samtools__11_target.bam's index points inside its EOF block, which '*' reads): no
            // oracle. bamflow must then end in a typed error or succeed, never crash (RegionQueryOracleTests asserts which).
            Assert.True(stderr.Length > 0, context);
            try
            {
                Convert(path, regions, multiRegion, bed);
            }
            catch (BamFormatException)
            {
            }

            return;
        }

        List<ArrowSam.Line> expected = [.. System.Text.Encoding.UTF8.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ArrowSam.Line.Parse)];
        List<ArrowSam.Line> actual;
        try
        {
            actual = Convert(path, regions, multiRegion, bed);
        }
        catch (Exception e) when (e is not Xunit.Sdk.IAssertionException)
        {
            throw new InvalidOperationException($"{context}: {e.GetType().Name}: {e.Message}", e);
        }

        ArrowSam.AssertSame(expected, actual, context);
    }

    private static List<ArrowSam.Line> Convert(string path, string[] regions, bool multiRegion, string? bed)
    {
        using BamReader reader = BamReader.Open(path);
        var query = RegionQuery.Create(reader.Header, regions, multiRegion, bed is null ? null : BedFile.Read(bed),
            regions.Length > 0 || BamIndex.Locate(path) is not null ? () => BamIndex.Open(path, null) : null);
        var engine = new BamArrowPipeline(new Bamflow.Arrow.ConversionOptions { BatchSize = 64, MaxBatchBytes = 64 << 10 }, new PipelineOptions { Threads = 2 }).Regions(query);
        var output = new MemoryStream();
        engine.RunAsync(reader, new ArrowIpcSink(output, ArrowIpcFormat.File)).GetAwaiter().GetResult();
        return [.. ArrowSam.Lines(ArrowSam.ReadAll(output.ToArray(), stream: false))];
    }

    /// <summary>samtools -M -L aborts on an empty intersection ("Region list is empty"); those cases are tested elsewhere.</summary>
    private static bool SamtoolsAccepts(string path, string[] regions, string bed) =>
        Samtools.Run(null, ["view", "-c", "-M", "-L", bed, path, .. regions]).ExitCode == 0;

    /// <summary>The file with an index samtools finds: its own (in the corpus), else a BAI and a CSI made by samtools in <paramref name="folder"/>.</summary>
    internal static List<(string Path, string Kind)> Indexed(string source, string folder)
    {
        var result = new List<(string, string)>();
        if (File.Exists(source + ".bai") || File.Exists(source + ".csi"))
        {
            result.Add((source, File.Exists(source + ".bai") ? "shipped bai" : "shipped csi"));
        }

        foreach ((string kind, string[] options) in new[] { ("bai", Array.Empty<string>()), ("csi", new[] { "-c" }) })
        {
            if (kind == "bai" && File.Exists(source + ".bai"))
            {
                continue;
            }

            string dir = Directory.CreateDirectory(Path.Combine(folder, kind)).FullName;
            string copy = Path.Combine(dir, Path.GetFileName(source));
            File.Copy(source, copy);
            if (Samtools.Run(null, ["index", .. options, copy]).ExitCode == 0)
            {
                result.Add((copy, kind));
            }
        }

        return result;
    }

    /// <summary>Random regions in samtools' syntax, drawn around the file's own records and at the references' edges.</summary>
    internal static List<string> RandomRegions(string path, Random random, int count)
    {
        (List<(string Name, long Length)> references, List<(string Name, long Pos)> placed) = Layout(path);
        var regions = new List<string>();
        if (references.Count == 0)
        {
            return [.. Enumerable.Repeat("*", count)];
        }

        // On a large file a region that spans a whole reference holds most of the file: a few of them (they are the same
        // code path as any other), the rest bounded, so the test stays within CI's time.
        bool isLarge = new FileInfo(path).Length > 400_000;
        int large = isLarge ? 2 : int.MaxValue;
        while (regions.Count < count)
        {
            (string name, long length) = references[random.Next(references.Count)];
            bool bounded = large <= 0;
            if (placed.Count > 0 && (random.Next(3) > 0 || bounded))
            {
                int index = random.Next(placed.Count);
                (string Name, long Pos) at = placed[index];
                name = at.Name;
                length = references.First(r => r.Name == name).Length;
                long center = at.Pos;
                long half = random.Next(isLarge ? 3 : 4) switch { 0 => 0, 1 => random.Next(1, 200), 2 => random.Next(1, 5_000), _ => random.Next(1, 200_000) };
                long begin = Math.Max(1, center - half), end = center + half;
                if (isLarge)
                {
                    // On a large file, a region holds at most a few hundred records, however dense the reads: from one
                    // record's position to that of a record up to 300 further on (CI time is rows converted and compared).
                    int last = Math.Min(placed.Count - 1, index + random.Next(0, 300));
                    while (placed[last].Name != name)
                    {
                        last--;
                    }

                    begin = Math.Max(1, center - random.Next(0, 50));
                    end = placed[last].Pos + random.Next(0, 50);
                }

                int form = random.Next(10);
                if (form < 3 && isLarge && large-- <= 0)
                {
                    form = 4; // an open end on a large file: bounded instead
                }

                regions.Add(form switch
                {
                    0 => $"{Name(name)}:{begin}",
                    1 => $"{Name(name)}:-{end}",
                    2 => $"{Name(name)}:{begin}-",
                    3 => $"{Name(name)}:{begin.ToString("N0", CultureInfo.InvariantCulture)}-{end.ToString("N0", CultureInfo.InvariantCulture)}",
                    _ => $"{Name(name)}:{begin}-{end}",
                });
                continue;
            }

            int kind = random.Next(8);
            if (kind is 0 or 6 or 7 && isLarge && large-- <= 0)
            {
                kind = 2; // a whole or half reference on a large file: an edge instead
            }

            regions.Add(kind switch
            {
                0 => Name(name),
                1 => "*",
                2 => $"{Name(name)}:1-1",
                3 => $"{Name(name)}:{length}-{length}",
                4 => $"{Name(name)}:{Math.Max(1, length - 100)}-{length + 1000}",
                5 => $"{Name(name)}:{length + 10}-{length + 20}",
                6 => $"{{{name}}}:1-{Math.Max(1, length / 2)}",
                _ => $"{Name(name)}:{1 + random.NextInt64(Math.Max(1, length))}-{1 + random.NextInt64(Math.Max(1, length))}".Split('-') is [var a, var b] && long.Parse(a.Split(':')[^1], CultureInfo.InvariantCulture) <= long.Parse(b, CultureInfo.InvariantCulture) ? $"{a}-{b}" : Name(name),
            });
        }

        return regions;

        // A name htslib would misread (it has a ':') goes in braces, as samtools needs it.
        static string Name(string name) => name.Contains(':', StringComparison.Ordinal) ? $"{{{name}}}" : name;
    }

    /// <summary>Random BED lines (0-based, half-open) around the file's records and on whole references.</summary>
    internal static List<string> RandomBed(string path, Random random, int count)
    {
        (List<(string Name, long Length)> all, List<(string Name, long Pos)> allPlaced) = Layout(path);
        // samtools' BED reader splits on any whitespace: a reference name with a space cannot be in a BED file.
        List<(string Name, long Length)> references = [.. all.Where(r => !r.Name.Any(char.IsWhiteSpace))];
        List<(string Name, long Pos)> placed = [.. allPlaced.Where(p => !p.Name.Any(char.IsWhiteSpace))];
        var lines = new List<string>();
        if (references.Count == 0)
        {
            return ["none\t0\t1"]; // a reference not in the header: selects nothing, in samtools too
        }

        for (int i = 0; i < count; i++)
        {
            if (placed.Count > 0 && (random.Next(4) > 0 || new FileInfo(path).Length > 400_000))
            {
                int index = random.Next(placed.Count);
                (string name, long pos) = placed[index];
                long begin = Math.Max(0, pos - random.Next(0, 3_000));
                long end = begin + 1 + random.Next(0, 6_000);
                if (new FileInfo(path).Length > 400_000)
                {
                    // As for regions: a few hundred records at most on a large file.
                    int last = Math.Min(placed.Count - 1, index + random.Next(0, 300));
                    while (placed[last].Name != name)
                    {
                        last--;
                    }

                    begin = Math.Max(0, pos - 1 - random.Next(0, 50));
                    end = placed[last].Pos + random.Next(0, 50);
                }

                lines.Add($"{name}\t{begin}\t{end}");
            }
            else
            {
                (string name, long length) = references[random.Next(references.Count)];
                lines.Add($"{name}\t0\t{Math.Max(1, length)}");
            }
        }

        return lines;
    }

    private static (List<(string Name, long Length)> References, List<(string Name, long Pos)> Placed) Layout(string path)
    {
        using BamReader reader = BamReader.Open(path);
        List<(string, long)> references = [.. reader.Header.References.Select(r => (r.Name, r.Length))];
        List<(string, long)> placed = [.. ArrowSam.SamtoolsLines(path)
            .Select(line => line.Fields.Split('\t'))
            .Where(f => f[2] != "*")
            .Select(f => (f[2], long.Parse(f[3], CultureInfo.InvariantCulture)))];
        return (references, placed);
    }
}
