using System.Diagnostics;

namespace Bamflow.Dataflow;

/// <summary>What one stage of a run did: how many items it handled and how long its workers were busy with them.</summary>
/// <param name="Name">The stage (read, inflate, chunk, a filter's name, convert, write, …).</param>
/// <param name="Items">Items handled: frame groups for read and inflate, chunks for the record stages, batches for write.</param>
/// <param name="Busy">Time spent in the stage's work, summed over its workers.</param>
/// <param name="Workers">How many workers the stage may run at once.</param>
/// <param name="Elapsed">The run's wall time.</param>
public sealed record StageMetrics(string Name, long Items, TimeSpan Busy, int Workers, TimeSpan Elapsed)
{
    /// <summary>Busy time as a share of what the stage's workers could have done in the run's wall time (0–1).</summary>
    public double Utilisation => Elapsed > TimeSpan.Zero ? Busy / (Elapsed * Workers) : 0;
}

/// <summary>Times one stage's work (thread-safe, a few nanoseconds per item).</summary>
internal sealed class StageClock(string name, int workers)
{
    private long _items;
    private long _ticks;

    public string Name => name;

    public T Time<T>(Func<T> work)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            Add(start);
        }
    }

    public void Time(Action work)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            work();
        }
        finally
        {
            Add(start);
        }
    }

    /// <summary>Counts an item whose work began at <paramref name="start"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void Add(long start)
    {
        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _items);
    }

    /// <summary>Adds time without an item (e.g. waiting).</summary>
    public void AddTime(long start) => Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);

    public StageMetrics Snapshot(TimeSpan elapsed) =>
        new(name, Interlocked.Read(ref _items), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks)), workers, elapsed);
}
