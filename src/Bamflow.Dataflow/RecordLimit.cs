namespace Bamflow.Dataflow;

/// <summary>
/// <see cref="PipelineOptions.Limit"/>: keeps the first N records that reach it and drops the rest. It sees the chunks
/// one at a time in file order (a sequential step of the graph, after the filters), so the count is exact whatever
/// the thread count.
/// </summary>
internal sealed class RecordLimit(long limit)
{
    private long _left = limit;
    private volatile bool _reached = limit == 0;

    /// <summary>Whether N records have been kept: every later record is dropped, and reading can stop.</summary>
    public bool Reached => _reached;

    /// <summary>Once <see cref="Reached"/>: the records of the input up to and including the last one kept.</summary>
    public long RecordsThrough { get; private set; }

    /// <summary>Keeps the chunk's first records up to the limit and drops the others; true when the limit is reached.</summary>
    public bool Apply(RecordChunk chunk)
    {
        if (_reached)
        {
            chunk.KeepFirst(0);
            return true;
        }

        (int kept, int end) = chunk.KeepFirst(_left);
        _left -= kept;
        if (_left == 0)
        {
            RecordsThrough = chunk.FirstRecordIndex + end;
            _reached = true;
        }

        return _reached;
    }
}
