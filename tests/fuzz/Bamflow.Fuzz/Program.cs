// Fuzzing harness for Bamflow's readers: every input goes through BamReader (records rendered as SAM) and through
// the engine (sequential, and parallel with 2 threads) into Stream.Null, in strict validation (Arrow IPC) and in
// lenient validation (sequential: Arrow IPC; parallel: Parquet in row groups of 50 rows, so several are encoded at
// once and joined). A BamFormatException is the expected outcome of a malformed input; anything else, a run that
// does not finish, or two ways that end differently, is a finding.
//
//   dotnet run -c Release --project tests/fuzz/Bamflow.Fuzz -- --mutate 200000 --corpus DIR [--seed 1] [--findings DIR]
//   afl-fuzz ... -- dotnet Bamflow.Fuzz.dll --afl        (SharpFuzz; see tests/fuzz/run.sh)
//   dotnet run ... -- --replay FILE...                     (run inputs once, report each outcome)
//
// An input that starts with the gzip magic is read as it is; any other input is taken as inflated BAM data and
// BGZF-compressed first (with correct CRCs), so mutations reach the BAM parser instead of stopping at a CRC check.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Bamflow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Bgzf;
using Bamflow.Dataflow;
using Bamflow.Parquet;

return Harness.Run(args);

internal static class Harness
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    // Large mutants: a seed's records repeated to this many inflated bytes, read in segments of SegmentBytes (every
    // input is), so that they span over a hundred segments (the engine's default segment is 8 MiB; a smaller one runs
    // the same code).
    private const int LargeBytes = 2 << 20;
    private const int SegmentBytes = 16 << 10;

    // Inputs larger than this are read from a temporary regular file, as users' files are (smaller ones from memory).
    private const int FileInputBytes = 256 << 10;

    // Memory: a way may allocate at most this, plus AllocationPerInputByte for each compressed input byte; the process's
    // peak resident memory must stay under PeakProcessBound.
    private const long AllocationBase = 128L << 20;
    private const long AllocationPerInputByte = 64;
    private const long PeakProcessBound = 2L << 30;

    public static int Run(string[] args)
    {
        string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

        if (args.Contains("--afl"))
        {
            // SharpFuzz's AFL loop (persistent): an exception escaping the action is a crash.
            SharpFuzz.Fuzzer.Run(stream =>
            {
                var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                Outcome outcome = Execute(buffer.ToArray());
                if (outcome.Finding is not null)
                {
                    throw new InvalidOperationException(outcome.Finding);
                }
            });
            return 0;
        }

        if (Option("--replay") is not null)
        {
            int failures = 0;
            foreach (string file in args.SkipWhile(a => a != "--replay").Skip(1))
            {
                Outcome outcome = Execute(File.ReadAllBytes(file));
                Console.WriteLine($"{file}: {outcome.Finding ?? outcome.Summary} (most allocated by one way {s_mostAllocated:N0} bytes)");
                failures += outcome.Finding is null ? 0 : 1;
            }

            return failures == 0 ? 0 : 1;
        }

        if (Option("--mutate") is { } count)
        {
            return Mutate(
                long.Parse(count, CultureInfo.InvariantCulture),
                Option("--corpus") ?? throw new ArgumentException("--corpus DIR is required"),
                int.Parse(Option("--seed") ?? "1", CultureInfo.InvariantCulture),
                Option("--findings") ?? Path.Combine(Path.GetTempPath(), "bamflow-fuzz-findings"),
                double.Parse(Option("--minutes") ?? "0", CultureInfo.InvariantCulture));
        }

        Console.Error.WriteLine("usage: Bamflow.Fuzz --mutate N --corpus DIR [--seed S] [--findings DIR] [--minutes M] | --afl | --replay FILE...");
        return 2;
    }

    /// <summary>The deterministic in-process mutation fuzzer: N mutants of the corpus files from one seed.</summary>
    private static int Mutate(long iterations, string corpusDir, int seed, string findingsDir, double minutes)
    {
        List<byte[]> raw = [];
        List<byte[]> compressed = [];
        foreach (string file in Directory.GetFiles(corpusDir).Order(StringComparer.Ordinal))
        {
            byte[] bytes = File.ReadAllBytes(file);
            if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
            {
                compressed.Add(bytes);
                raw.Add(Inflate(bytes));
            }
            else
            {
                raw.Add(bytes);
            }
        }

        if (raw.Count == 0)
        {
            Console.Error.WriteLine($"no corpus files in {corpusDir}");
            return 2;
        }

        LengthMutator? lengths = LengthMutator.Build(raw, LargeBytes);
        var random = new Random(seed);
        var stopwatch = Stopwatch.StartNew();
        var outcomes = new Dictionary<string, long>(StringComparer.Ordinal);
        var findings = new Dictionary<string, string>(StringComparer.Ordinal);
        long done = 0;
        for (long i = 0; i < iterations && (minutes <= 0 || stopwatch.Elapsed.TotalMinutes < minutes); i++)
        {
            // Two in three mutants change the inflated BAM data (recompressed with valid CRCs): deep; one in three
            // change the compressed bytes: the BGZF layer.
            // One in twenty is a large file with hostile length fields deep inside it.
            bool deep = compressed.Count == 0 || random.Next(3) != 0;
            byte[] input;
            if (lengths is not null && random.Next(20) == 0)
            {
                input = Compress(lengths.Mutate(random), 65280);
                outcomes["(large length mutants)"] = outcomes.GetValueOrDefault("(large length mutants)") + 1;
            }
            else
            {
                input = deep ? MutateBytes(raw[random.Next(raw.Count)], random) : MutateBytes(compressed[random.Next(compressed.Count)], random);
                if (deep)
                {
                    input = Compress(input, random.Next(4) == 0 ? 1 + random.Next(300) : 65280); // small blocks: records straddle them
                }
            }

            Outcome outcome = Execute(input);
            done++;
            string key = outcome.Finding is null ? outcome.Summary : "FINDING " + outcome.Finding;
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            if (outcome.Finding is not null && findings.TryAdd(outcome.Finding, ""))
            {
                Directory.CreateDirectory(findingsDir);
                string path = Path.Combine(findingsDir, $"finding-{findings.Count:D3}-iter{i}.bam");
                File.WriteAllBytes(path, input);
                findings[outcome.Finding] = path;
                Console.WriteLine($"iteration {i}: {outcome.Finding} -> {path}");
            }

            if (done % 5000 == 0)
            {
                Console.WriteLine($"{done} executions, {stopwatch.Elapsed.TotalSeconds:F0} s, {findings.Count} findings");
            }
        }

        Console.WriteLine($"peak resident memory {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB; most allocated by one way for one input {s_mostAllocated / (1 << 20)} MiB");
        Console.WriteLine($"seed {seed}: {done} executions in {stopwatch.Elapsed.TotalSeconds:F1} s ({done / Math.Max(stopwatch.Elapsed.TotalSeconds, 0.001):F0}/s), corpus {raw.Count} files, {findings.Count} distinct findings");
        foreach ((string key, long n) in outcomes.OrderByDescending(p => p.Value).Take(40))
        {
            Console.WriteLine($"  {n,8}  {key}");
        }

        return findings.Count == 0 ? 0 : 1;
    }

    /// <summary>One to eight random edits: bit flips, bytes set to boundary values, 32-bit boundary values, cuts, copies, deletions.</summary>
    private static byte[] MutateBytes(byte[] original, Random random)
    {
        var data = new List<byte>(original);
        int edits = 1 + random.Next(8);
        for (int e = 0; e < edits && data.Count > 0; e++)
        {
            int at = random.Next(data.Count);
            switch (random.Next(8))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[at] = (byte)random.Next(256);
                    break;
                case 2:
                    data[at] = (byte)(random.Next(4) switch { 0 => 0, 1 => 0xFF, 2 => 0x7F, _ => 0x80 });
                    break;
                case 3:
                    if (at + 4 <= data.Count)
                    {
                        int value = random.Next(8) switch { 0 => 0, 1 => -1, 2 => int.MaxValue, 3 => int.MinValue, 4 => 1 << 16, 5 => 65535, 6 => -2, _ => random.Next() };
                        for (int k = 0; k < 4; k++)
                        {
                            data[at + k] = (byte)(value >> (8 * k));
                        }
                    }

                    break;
                case 4:
                    data.RemoveRange(at, data.Count - at); // truncate
                    break;
                case 5:
                    int length = Math.Min(random.Next(1, 64), data.Count - at);
                    data.InsertRange(random.Next(data.Count), data.GetRange(at, length)); // duplicate a run
                    break;
                case 6:
                    data.RemoveRange(at, Math.Min(random.Next(1, 64), data.Count - at));
                    break;
                default:
                    data.Insert(at, (byte)random.Next(256));
                    break;
            }
        }

        return [.. data];
    }

    /// <summary>Runs one input every way; returns how it ended, or a finding.</summary>
    public static Outcome Execute(byte[] input)
    {
        byte[] bam = input.Length >= 2 && input[0] == 0x1f && input[1] == 0x8b ? input : Compress(input, 65280);
        string? file = null;
        if (bam.Length > FileInputBytes)
        {
            file = Path.Combine(Path.GetTempPath(), $"bamflow-fuzz-{Environment.ProcessId}.bam");
            File.WriteAllBytes(file, bam);
        }

        try
        {
            return Execute(bam, file);
        }
        finally
        {
            if (file is not null)
            {
                File.Delete(file);
            }
        }
    }

    private static Outcome Execute(byte[] bam, string? file)
    {
        BamReader Open() => file is null ? new BamReader(new MemoryStream(bam), "fuzz.bam") : BamReader.Open(file);
        long allocationBound = AllocationBase + AllocationPerInputByte * bam.Length;
        string reader = Guarded("reader", () => ReadAll(Open()), allocationBound);
        string sequential = Guarded("sequential", () => Convert(Open(), new PipelineOptions { Sequential = true }), allocationBound);
        string parallel = Guarded("parallel@2", () => Convert(Open(), new PipelineOptions { Threads = 2 }), allocationBound);
        string sequentialLenient = Guarded("sequential lenient", () => Convert(Open(), new PipelineOptions { Sequential = true, Validation = ValidationMode.Lenient }), allocationBound);
        string parallelLenient = Guarded("parallel@2 lenient parquet", () => Convert(Open(), new PipelineOptions { Threads = 2, Validation = ValidationMode.Lenient }, parquet: true), allocationBound);
        if (System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 is var peak && peak > PeakProcessBound)
        {
            return new Outcome("", $"memory: the process's peak resident memory reached {peak:N0} bytes (bound {PeakProcessBound:N0})");
        }

        foreach (string result in (string[])[reader, sequential, parallel, sequentialLenient, parallelLenient])
        {
            if (result.StartsWith("FINDING", StringComparison.Ordinal))
            {
                return new Outcome(result, result[8..]);
            }
        }

        // Every way must end the same: the same record count, or the same error at the same place (the first in
        // file order, even when the parallel engine meets a later one first).
        if (reader != sequential || reader != parallel)
        {
            return new Outcome(reader, $"disagreement: reader [{reader}] sequential [{sequential}] parallel [{parallel}]");
        }

        // Lenient: both engines skip the same records (or stop at the same framing error); on an input strict
        // validation accepts, lenient validation skips nothing.
        if (sequentialLenient != parallelLenient || (reader.StartsWith("ok ", StringComparison.Ordinal) && sequentialLenient != reader + " skipped 0"))
        {
            return new Outcome(reader, $"lenient disagreement: strict [{reader}] sequential [{sequentialLenient}] parallel [{parallelLenient}]");
        }

        // The summary drops the place, so that outcomes can be counted by kind.
        return new Outcome(reader.Split(" record ")[0].Split(" @ ")[0], null);
    }

    private static long s_mostAllocated;

    private static string Guarded(string way, Func<string> run, long allocationBound)
    {
        Task<string> task = Task.Run(() =>
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            string result = Run();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            s_mostAllocated = Math.Max(s_mostAllocated, allocated);
            return allocated > allocationBound ? $"FINDING {way}: allocated {allocated:N0} bytes for one input (bound {allocationBound:N0}), ending [{result}]" : result;
        });
        return task.Wait(s_deadline) ? task.Result : $"FINDING {way}: did not finish within {s_deadline.TotalSeconds} s";

        string Run()
        {
            try
            {
                return run();
            }
            catch (BgzfFormatException e)
            {
                return $"{nameof(BgzfFormatException)}.{e.Error} @ {e.CompressedOffset}";
            }
            catch (BamHeaderFormatException e)
            {
                return $"{nameof(BamHeaderFormatException)}.{e.Field} @ {e.CompressedOffset}";
            }
            catch (BamRecordFormatException e)
            {
                return $"{nameof(BamRecordFormatException)}.{e.Error} record {e.RecordIndex} @ {e.Position}";
            }
            catch (UnsupportedInputException e)
            {
                return $"{nameof(UnsupportedInputException)}.{e.Format}";
            }
            catch (BamFormatException e)
            {
                return $"FINDING {way}: untyped {e.GetType().Name}: {e.Message}";
            }
            catch (Exception e)
            {
                return $"FINDING {way}: {e.GetType().FullName}: {e.Message} {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}";
            }
        }
    }

    // The reader way models a conversion: after what samtools reads, the checks of what a writer can hold exactly
    // (the header's text and names as UTF-8, then each record's values), in file order as the engines make them.
    private static string ReadAll(BamReader opened)
    {
        using BamReader reader = opened;
        reader.Header.ThrowIfNotUtf8(reader.FileName);
        var line = new TextBuffer();
        long records = 0;
        VirtualPosition position = reader.Position;
        while (reader.TryRead(out BamRecord record))
        {
            BamRecordError error = record.ValidateValues();
            if (error != BamRecordError.None)
            {
                throw BamRecordFormatException.Invalid(error, record.Data, reader.Header.References.Count, reader.FileName, records, position);
            }

            line.Clear();
            SamFormatter.AppendRecord(record, reader.Header, line);
            records++;
            position = reader.Position;
        }

        return $"ok {records}";
    }

    private static string Convert(BamReader opened, PipelineOptions options, bool parquet = false)
    {
        using BamReader reader = opened;
        var engine = new BamArrowPipeline(new() { BatchSize = 64, MaxBatchBytes = SegmentBytes }, options);
        IRecordBatchSink sink = parquet
            ? new ParquetSink(Stream.Null, new ParquetSinkOptions { RowGroupSize = 50 })
            : new ArrowIpcSink(Stream.Null, ArrowIpcFormat.Stream);
        try
        {
            ConversionSummary summary = engine.RunAsync(reader, sink).GetAwaiter().GetResult();
            return options.Validation == ValidationMode.Lenient ? $"ok {summary.Records} skipped {summary.RecordsSkipped}" : $"ok {summary.Records}";
        }
        finally
        {
            sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The inflated contents of a BGZF file (as far as it inflates).</summary>
    private static byte[] Inflate(byte[] bgzf)
    {
        var output = new MemoryStream();
        using var reader = new BgzfReader(new MemoryStream(bgzf));
        byte[] buffer = new byte[65536];
        try
        {
            int n;
            while ((n = reader.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
            }
        }
        catch (BgzfFormatException)
        {
            // a broken seed: keep what inflated
        }

        return output.ToArray();
    }

    /// <summary>BGZF blocks of <paramref name="blockSize"/> inflated bytes (SAMv1 §4.1), then the EOF marker block.</summary>
    private static byte[] Compress(byte[] data, int blockSize)
    {
        var output = new MemoryStream();
        for (int offset = 0; offset < data.Length; offset += blockSize)
        {
            ReadOnlySpan<byte> chunk = data.AsSpan(offset, Math.Min(blockSize, data.Length - offset));
            var deflated = new MemoryStream();
            using (var deflate = new DeflateStream(deflated, CompressionLevel.Fastest, leaveOpen: true))
            {
                deflate.Write(chunk);
            }

            byte[] cdata = deflated.ToArray();
            byte[] header = [0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, (byte)'B', (byte)'C', 2, 0, 0, 0];
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(16), (ushort)(header.Length + cdata.Length + 8 - 1));
            output.Write(header);
            output.Write(cdata);
            byte[] footer = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(footer, System.IO.Hashing.Crc32.HashToUInt32(chunk));
            BinaryPrimitives.WriteUInt32LittleEndian(footer.AsSpan(4), (uint)chunk.Length);
            output.Write(footer);
        }

        output.Write([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 0x42, 0x43, 0x02, 0, 0x1b, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        return output.ToArray();
    }
}

/// <summary>How one input ended: a summary of the outcome, and the finding if it was not an expected one.</summary>
internal sealed record Outcome(string Summary, string? Finding);
