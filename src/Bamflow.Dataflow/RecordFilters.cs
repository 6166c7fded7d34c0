using System.Text;
using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// samtools view's record filters, as predicates for <see cref="BamArrowPipeline.Where"/> (each the same test as
/// the samtools option named).
/// </summary>
public static class RecordFilters
{
    /// <summary><c>-f FLAGS</c>: keep records that have all of <paramref name="flags"/>.</summary>
    public static RecordPredicate RequireFlags(int flags) => record => (record.Flag & flags) == flags;

    /// <summary><c>-F FLAGS</c>: drop records that have any of <paramref name="flags"/>.</summary>
    public static RecordPredicate ExcludeAnyFlags(int flags) => record => (record.Flag & flags) == 0;

    /// <summary><c>-G FLAGS</c>: drop records that have all of <paramref name="flags"/> (0 drops nothing).</summary>
    public static RecordPredicate ExcludeAllFlags(int flags) => record => flags == 0 || (record.Flag & flags) != flags;

    /// <summary><c>-q MAPQ</c>: drop records whose MAPQ is below <paramref name="minimum"/> (255, "unavailable", is not below).</summary>
    public static RecordPredicate MinimumMappingQuality(int minimum) => record => record.MappingQuality >= minimum;

    /// <summary>
    /// <c>-r RG</c> (once per read group): drop records whose <c>RG:Z</c> tag names another read group. As in
    /// samtools, a record without an RG tag is kept.
    /// </summary>
    public static RecordPredicate ReadGroups(IEnumerable<string> readGroups)
    {
        ArgumentNullException.ThrowIfNull(readGroups);
        byte[][] wanted = [.. readGroups.Select(Encoding.UTF8.GetBytes)];
        return record =>
        {
            if (!record.TryGetAux("RG"u8, out AuxField field))
            {
                return true;
            }

            if (field.Type != (byte)'Z')
            {
                return false;
            }

            ReadOnlySpan<byte> value = field.Value;
            foreach (byte[] name in wanted)
            {
                if (value.SequenceEqual(name))
                {
                    return true;
                }
            }

            return false;
        };
    }

    /// <summary>
    /// Keeps the records placed on the named references (RNAME), the records <c>samtools view FILE NAME</c> returns
    /// for a whole reference. Throws <see cref="ArgumentException"/> for a name the header does not have.
    /// </summary>
    public static RecordPredicate References(BamHeader header, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(names);
        var ids = new HashSet<int>();
        foreach (string name in names)
        {
            int id = -1;
            for (int i = 0; i < header.References.Count && id < 0; i++)
            {
                if (header.References[i].Name == name)
                {
                    id = i;
                }
            }

            if (id < 0)
            {
                throw new ArgumentException($"the header has no reference named '{name}'", nameof(names));
            }

            ids.Add(id);
        }

        bool[] keep = new bool[header.References.Count];
        foreach (int id in ids)
        {
            keep[id] = true;
        }

        return record => record.ReferenceId >= 0 && keep[record.ReferenceId];
    }
}
