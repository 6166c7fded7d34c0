using Bamflow.Bgzf;

namespace Bamflow.Dataflow;

/// <summary>
/// One pass of the engine's source (<see cref="BamArrowPipeline.Select"/>): the whole file (<paramref name="Ranges"/>
/// null: alone, read as without passes, a pipe too; among others, from the first record to the end) or ranges of virtual positions read in the order given, and the records of them it keeps
/// (<paramref name="Keep"/>, applied in parallel before every other record stage; null: all of them).
/// </summary>
/// <param name="Ranges">Ranges from a record's start to a record's start (or <see cref="BgzfRange.EndOfFile"/>), or null for the whole file.</param>
/// <param name="Keep">The records the pass keeps; called on many threads at once; must not allocate per record.</param>
public sealed record ReadPass(IReadOnlyList<BgzfRange>? Ranges, RecordPredicate? Keep);
