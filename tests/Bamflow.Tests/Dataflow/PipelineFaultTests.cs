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

    [Theory]
    [InlineData(1, 4)]
    [InlineData(3, 4)]
    [InlineData(3, 1)]
    public async Task RunAsync_SinkThrows_CallerGetsThatExceptionAndReadingStopsAtOnce(int failAt, int threads)
    {
        using BamReader reader = FaultInput.OpenCounted(out ReadCountingStream input);
        var boom = new IOException("disk full (injected)");
        long readAtFault = -1;
        var sink = new FailingSink(failAt, boom) { OnWrite = n => { if (n == failAt) { readAtFault = input.BytesRead; } } };
        var engine = new BamArrowPipeline(FaultInput.Options, new() { Threads = threads });

        var thrown = await Assert.ThrowsAsync<IOException>(() => engine.RunAsync(reader, sink, null, TestContext.Current.CancellationToken).WaitAsync(s_deadline, TestContext.Current.CancellationToken));

        Assert.Same(boom, thrown);
        Assert.False(sink.Completed);
        Assert.Equal(failAt, sink.Written); // no batch reached the sink after the one it failed on
        // What was read after the fault, and in all, stays within what the engine may hold at once (FaultInput
        // explains the bound), far from the end of the 42 MB input.
        FaultInput.AssertStoppedReading(input, readAtFault, $"sink fault at batch {failAt}, {threads} threads");
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
