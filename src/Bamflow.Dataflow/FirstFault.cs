using System.Runtime.ExceptionServices;

namespace Bamflow.Dataflow;

/// <summary>
/// Keeps the first real exception of a run and stops everything (cancels the run's token) when one happens, so
/// the caller sees that original exception rather than an AggregateException of its consequences.
/// </summary>
internal sealed class FirstFault(CancellationTokenSource stop)
{
    private ExceptionDispatchInfo? _first;

    public Exception? Exception => _first?.SourceException;

    public CancellationToken Token => stop.Token;

    public void Record(Exception exception)
    {
        if (Interlocked.CompareExchange(ref _first, ExceptionDispatchInfo.Capture(exception), null) is null)
        {
            stop.Cancel();
        }
    }

    public void Observe(Task completion)
    {
        if (completion.IsFaulted && completion.Exception is { } aggregate)
        {
            Record(aggregate.Flatten().InnerExceptions[0]);
        }
    }

    /// <summary>
    /// Runs block code; a failure is recorded and rethrown, and an <see cref="OperationCanceledException"/> that is
    /// not the run's cancellation is wrapped, because Dataflow silently drops an item whose delegate throws one.
    /// </summary>
    public T Guard<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (OperationCanceledException e) when (!stop.IsCancellationRequested)
        {
            throw Wrap(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Record(e);
            throw;
        }
    }

    /// <inheritdoc cref="Guard{T}"/>
    public async Task GuardAsync(Func<Task> body)
    {
        try
        {
            await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!stop.IsCancellationRequested)
        {
            throw Wrap(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Record(e);
            throw;
        }
    }

    public void ThrowIfFaulted() => _first?.Throw();

    private InvalidOperationException Wrap(OperationCanceledException e)
    {
        var wrapped = new InvalidOperationException("a pipeline stage was cancelled unexpectedly", e);
        Record(wrapped);
        return wrapped;
    }
}
