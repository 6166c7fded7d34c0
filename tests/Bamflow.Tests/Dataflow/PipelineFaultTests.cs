using Apache.Arrow;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Dataflow;

/// <summary>A fault anywhere ends the run with that exception, promptly, with every block completed.</summary>
public sealed class PipelineFaultTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    [CorpusTheory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task RunAsync_SinkThrows_CallerGetsThatException(int failAt)
    {
        using BamReader reader = OpenCounted("hts-specs__level-9.bam", out ReadCountingStream input, out long length);
        var boom = new IOException("disk full (injected)");
        var sink = new FailingSink(failAt, boom);
        var engine = new BamArrowPipeline(SmallSegments, new() { Threads = 4 });

        var thrown = await Assert.ThrowsAsync<IOException>(() => engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken));

        Assert.Same(boom, thrown);
        Assert.False(sink.Completed);
        Assert.True(input.BytesRead < length / 2, $"the reader stopped early: it read {input.BytesRead} of {length} bytes");
    }

    /// <summary>
    /// Segments of 64 KiB of records and a tag scan of one batch, so that a small corpus file is many segments and
    /// the bytes read from it show whether a run stopped early.
    /// </summary>
    internal static ConversionOptions SmallSegments { get; } = new() { BatchSize = 100, MaxBatchBytes = 64 << 10, TagScanRecords = 100 };

    /// <summary>A corpus BAM read through a <see cref="ReadCountingStream"/> (which the reader owns), and its length.</summary>
    internal static BamReader OpenCounted(string corpusName, out ReadCountingStream input, out long length)
    {
        string path = SharedData.CorpusPath(corpusName);
        length = new FileInfo(path).Length;
        input = new ReadCountingStream(File.OpenRead(path));
        return new BamReader(input, path);
    }

    [CorpusFact]
    public async Task RunAsync_SinkThrowsOperationCanceled_IsNotSwallowed()
    {
        // Dataflow drops an item whose delegate throws OperationCanceledException: it must not vanish.
        using BamReader reader = BamReader.Open(SharedData.CorpusPath("hts-specs__level-9.bam"));
        var sink = new FailingSink(2, new OperationCanceledException("not a real cancellation"));
        var engine = new BamArrowPipeline(new() { BatchSize = 100 }, new() { Threads = 2 });

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken));

        Assert.IsType<OperationCanceledException>(thrown.InnerException);
    }

    [CorpusTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_TruncatedInput_ThrowsTheFormatError(bool sequential)
    {
        string path = SharedData.CorpusPath("bad/htsjdk__truncated.bam");
        using BamReader reader = BamReader.Open(path);
        var sink = new FailingSink(int.MaxValue, null);
        var engine = new BamArrowPipeline(new() { BatchSize = 1000 }, new() { Threads = 2, Sequential = sequential });

        var thrown = await Assert.ThrowsAsync<Bamflow.Bgzf.BgzfFormatException>(() => engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken));

        Assert.Equal(Bamflow.Bgzf.BgzfError.Truncated, thrown.Error);
        Assert.Equal(path, thrown.FileName);
        Assert.False(sink.Completed);
    }

    [CorpusFact]
    public async Task RunAsync_Cancelled_StopsPromptlyWithOperationCanceled()
    {
        using BamReader reader = BamReader.Open(SharedData.CorpusPath("hmftools__pseudo_ig_regions.sorted.bam"));
        using var cancel = new CancellationTokenSource();
        var sink = new FailingSink(int.MaxValue, null) { OnWrite = n => { if (n == 3) { cancel.Cancel(); } } };
        var engine = new BamArrowPipeline(new() { BatchSize = 1000 }, new() { Threads = 2 });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.RunAsync(reader, sink, null, cancel.Token).WaitAsync(s_deadline, TestContext.Current.CancellationToken));

        Assert.False(sink.Completed);
        Assert.InRange(sink.Written, 3, 20);
    }

    /// <summary>Throws <c>error</c> at write number <c>failAt</c> (1-based).</summary>
    private sealed class FailingSink(int failAt, Exception? error) : IRecordBatchSink
    {
        public int Written { get; private set; }

        public bool Completed { get; private set; }

        public Action<int>? OnWrite { get; init; }

        public Task StartAsync(Schema schema, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            Written++;
            OnWrite?.Invoke(Written);
            if (Written == failAt && error is not null)
            {
                throw error;
            }

            return Task.CompletedTask;
        }

        public Task CompleteAsync(CancellationToken cancellationToken)
        {
            Completed = true;
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
