using Bamflow.Arrow;
using Bamflow.Bam;

namespace Bamflow.Tests.Support;

/// <summary>
/// The input of the tests that check that a fault stops the reading early: the sample fixture concatenated
/// <see cref="Copies"/> times by <c>samtools cat</c> (which copies the blocks, so it takes a fraction of a second), about
/// 42 MB, read through a <see cref="ReadCountingStream"/> in segments of 64 KiB, so that the engine sees hundreds of
/// segments and the bytes read from the input show where it stopped. Made once per test run, deleted at exit.
/// </summary>
/// <remarks>
/// The bound, <see cref="ReadBound"/>: with <see cref="Options"/> a segment is at most 64 KiB of data plus the BGZF
/// block that crosses that budget (at most 64 KiB more), and the engine holds a bounded number of segments at once
/// (its capacity plus one per worker plus the reader's own: about a dozen at 4 threads) and one read ahead (at most a
/// segment's worth, or 256 KiB). So once a fault is known the engine may still have read up to about 12 × 128 KiB +
/// 256 KiB ≈ 1.8 MiB; <see cref="ReadBound"/> allows 4 MiB. Measured where the engine keeps its bound (2026-12-07):
/// 0.33–0.59 MB read in all, at most 64 KiB of it after the fault. The file is ten times the bound, so a run that
/// reads on fails by a wide margin; and the bound counts bytes, not time, so a slow machine does not make it flaky.
/// </remarks>
public static class FaultInput
{
    /// <summary>Copies of the sample fixture (2,023 records, 210 KB each).</summary>
    public const int Copies = 200;

    /// <summary>The most bytes a run may read from <see cref="Path"/> when a fault comes in its first few hundred records.</summary>
    public const long ReadBound = 4L << 20;

    private static readonly Lazy<string> s_path = new(Make, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Records of at most 64 KiB a segment, batches of 100 records, a tag scan of one batch (so that planning reads little).</summary>
    public static ConversionOptions Options { get; } = new() { BatchSize = 100, MaxBatchBytes = 64 << 10, TagScanRecords = 100 };

    /// <summary>The concatenated BAM (made on first use).</summary>
    public static string Path => s_path.Value;

    /// <summary>Its length in bytes.</summary>
    public static long Length => new FileInfo(Path).Length;

    /// <summary>Opens <see cref="Path"/> through a <see cref="ReadCountingStream"/>, which the reader owns.</summary>
    public static BamReader OpenCounted(out ReadCountingStream input)
    {
        input = new ReadCountingStream(File.OpenRead(Path));
        return new BamReader(input, Path);
    }

    /// <summary>
    /// Asserts that a run that failed at <paramref name="fault"/>, within its first few hundred records, read at most
    /// <see cref="ReadBound"/> bytes of <paramref name="input"/> after the fault (it had <paramref name="readAtFault"/>
    /// then), and in all: it stopped reading, far from the end of the input.
    /// </summary>
    public static void AssertStoppedReading(ReadCountingStream input, long readAtFault, string fault)
    {
        long read = input.BytesRead;
        Assert.True(readAtFault >= 0, $"{fault}: the fault was never injected");
        Assert.True(read - readAtFault <= ReadBound, $"{fault}: read on after the fault: {read - readAtFault:N0} bytes after it, {read:N0} of {Length:N0} in all");
        Assert.True(read <= ReadBound, $"{fault}: read {read:N0} of {Length:N0} bytes");
    }

    private static string Make()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bamflow-fault-input-{Environment.ProcessId}-{Guid.NewGuid():N}.bam");
        (int code, _, string stderr) = Samtools.Run(null, ["cat", "-o", path, .. Enumerable.Repeat(Conversion.Fixture("sample.bam"), Copies)]);
        Assert.True(code == 0, "samtools cat failed: " + stderr);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        Assert.True(new FileInfo(path).Length > 8 * ReadBound, "the input must be far larger than the bound");
        return path;
    }
}
