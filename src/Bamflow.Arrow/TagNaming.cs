using System.Text;

namespace Bamflow.Arrow;

/// <summary>
/// Names the children of the <c>tags</c> struct so that engines which resolve names without regard to case
/// (DuckDB, Spark with <c>spark.sql.caseSensitive=false</c>, Trino, Hive) can reach every tag, and no name
/// reaches another tag's values.
/// </summary>
/// <remarks>
/// SAM tags are case-sensitive: <c>NM</c> and <c>nM</c> (STAR writes both) are different tags. The rule:
/// <list type="bullet">
/// <item>A tag that differs only in case from no other tag of the schema keeps its name (<c>NM</c>, <c>nh</c>).</item>
/// <item>Every tag of a group that differs only in case (<c>NM</c> and <c>nM</c>) is named
/// <c>TAG_CASE</c>: the tag, an underscore and one letter per letter of the tag, <c>u</c> for upper case and
/// <c>l</c> for lower case: <c>NM_uu</c>, <c>nM_lu</c>; <c>BC_uu</c>, <c>Bc_ul</c>; <c>X0_u</c>, <c>x0_l</c>.
/// All of the group are renamed, the upper-case one too, so that <c>tags.NM</c> in a case-insensitive engine
/// fails (no such child) instead of returning <c>nM</c>'s values, whichever tag came first.</item>
/// </list>
/// The name never depends on the order of the tags. The first two characters of a child's name are always its
/// exact SAM tag. Names are distinct without regard to case: a renamed child has five (or four) characters and
/// an underscore, so it meets no two-character tag, no other renamed child, and no top-level column.
/// For names that are not SAM tags (a library caller's, or bytes outside [A-Za-z0-9]) that would still coincide,
/// the later ones get <c>_2</c>, <c>_3</c>, … in column order.
/// </remarks>
public static class TagNaming
{
    /// <summary>The child name of each tag in <paramref name="tags"/> (same order), by the rule above.</summary>
    public static string[] ChildNames(IReadOnlyList<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var groups = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (string tag in tags.Distinct(StringComparer.Ordinal))
        {
            groups[tag] = groups.GetValueOrDefault(tag) + 1;
        }

        var names = new string[tags.Count];
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < tags.Count; i++)
        {
            string name = groups[tags[i]] > 1 ? WithCase(tags[i]) : tags[i];
            string unique = name;
            for (int n = 2; !taken.Add(unique); n++)
            {
                unique = $"{name}_{n}";
            }

            names[i] = unique;
        }

        return names;
    }

    /// <summary>The tag, '_', and u or l for each ASCII letter of it.</summary>
    private static string WithCase(string tag)
    {
        var name = new StringBuilder(tag, tag.Length * 2 + 1).Append('_');
        foreach (char c in tag)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                name.Append('u');
            }
            else if (char.IsAsciiLetterLower(c))
            {
                name.Append('l');
            }
        }

        return name.ToString();
    }
}
