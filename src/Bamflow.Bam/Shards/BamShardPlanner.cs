using Bamflow.Bam.Index;
using Bamflow.Bgzf;

namespace Bamflow.Bam.Shards;

/// <summary>
/// Where N shards of a BAM file start: record boundaries near N equal parts of its compressed bytes. Shard k holds the
/// records whose first byte is at or after its start and before the next shard's, so every record is in exactly one
/// shard, and the shards' records in order are the file's. The first shard starts at the first record (after the
/// header); each other start is the first record start at or after its share of the bytes, taken from the index
/// (<see cref="BamIndex.RecordStarts"/>, proven as a search proves one) where the index has one nearby, else found by
/// <see cref="BgzfBlockSearch"/> and <see cref="BamRecordSearch"/>. It reads a few blocks per shard, never the whole file.
/// </summary>
public static class BamShardPlanner
{
    /// <summary>
    /// Plans <paramref name="shards"/> shards of the BAM in <paramref name="file"/> (a stream that seeks, left open) whose
    /// first record starts at <paramref name="firstRecord"/>.
    /// </summary>
    /// <exception cref="BamFormatException">A boundary falls where the file is corrupt, or the index's offsets are not record starts of this file.</exception>
    public static BamShardBoundaries Plan(Stream file, string? fileName, VirtualPosition firstRecord, int referenceCount, int shards, BamIndex? index, int maxRecordSize, IBgzfInflater inflater)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        long length = file.Length;
        long first = firstRecord.CompressedOffset;
        long span = Math.Max(0, length - first);
        long tolerance = span / shards / 4; // how far past its share an index start may be taken
        IReadOnlyList<VirtualPosition> indexStarts = index?.RecordStarts() ?? [];
        var starts = new VirtualPosition[shards];
        starts[0] = firstRecord;
        int fromIndex = 0, fromSearch = 0;
        long searchBytes = 0;
        using var search = new BamRecordSearch(file, fileName, referenceCount, maxRecordSize, inflater);
        int next = 0; // the first index start not yet passed
        for (int k = 1; k < shards; k++)
        {
            VirtualPosition previous = starts[k - 1];
            if (previous == BgzfRange.EndOfFile)
            {
                starts[k] = previous;
                continue;
            }

            long target = first + (long)((decimal)span * k / shards);
            while (next < indexStarts.Count && (indexStarts[next].CompressedOffset < target || indexStarts[next] <= previous))
            {
                next++;
            }

            VirtualPosition start;
            if (next < indexStarts.Count && indexStarts[next].CompressedOffset - target <= tolerance)
            {
                // Proven as a search proves one; an index's last chunk may end where the records do (the end of the file).
                VirtualPosition given = indexStarts[next];
                VirtualPosition? found = search.FindRecordStart(given.CompressedOffset, given);
                if (found is { } f && f != given)
                {
                    throw new BamFormatException($"the index gives virtual offset {given} as a record start, and no valid record starts there: the index belongs to another version of the file (rebuild it with 'bamflow index')", fileName, given.CompressedOffset);
                }

                start = found ?? BgzfRange.EndOfFile;

                fromIndex++;
            }
            else
            {
                long block = BgzfBlockSearch.FindBlockStart(file, Math.Max(target, previous.CompressedOffset), fileName, ref searchBytes);
                // Strictly after the previous start: a shard before this one is never made empty by finding its own start again.
                start = block >= length ? BgzfRange.EndOfFile : search.FindRecordStart(block, new VirtualPosition(previous.Value + 1)) ?? BgzfRange.EndOfFile;
                fromSearch++;
            }

            starts[k] = start < previous ? previous : start;
        }

        return new BamShardBoundaries(starts, fromIndex, fromSearch, searchBytes + search.BytesRead);
    }
}

/// <summary>Where each shard starts (<see cref="BgzfRange.EndOfFile"/>: past the last record, an empty shard), and what finding them cost.</summary>
/// <param name="Starts">Shard k's first record (0-based k), in file order; the last shard ends at the end of the file.</param>
/// <param name="FromIndex">Boundaries taken from the index.</param>
/// <param name="FromSearch">Boundaries found by a block and record search.</param>
/// <param name="BytesRead">Compressed bytes read to find and prove them.</param>
public sealed record BamShardBoundaries(IReadOnlyList<VirtualPosition> Starts, int FromIndex, int FromSearch, long BytesRead);
