using System.Reflection;
using System.Text;
using Apache.Arrow;
using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>
/// The Arrow schema of a conversion, fixed before the first batch: which columns exist, the tag children and
/// their types, the reference dictionary, and the metadata (header text, coordinates, version, source).
/// </summary>
public sealed class BamArrowSchema
{
    /// <summary>Builds the schema for records of <paramref name="header"/> with <paramref name="tagColumns"/>.</summary>
    public BamArrowSchema(BamHeader header, ConversionOptions options, IReadOnlyList<TagColumn> tagColumns, string? sourceName)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tagColumns);
        byte[] samText = header.ToSamText();
        Header = header;
        SourceName = sourceName;
        Options = options;
        TagColumns = Named(tagColumns);
        ReferenceDictionary = BuildReferenceDictionary(header);
        HasTagsColumn = options.TagMode != TagMode.None && tagColumns.Count > 0;
        HasTagsOtherColumn = options.TagMode != TagMode.None;

        Columns = [.. RecordBatchBuilder.ColumnTable.Where(c => c.IsPresent(this))];
        List<Field> fields = [.. Columns.Select(c => c.CreateField(this))];

        var metadata = new Dictionary<string, string>
        {
            [BamColumns.SamHeaderKey] = Encoding.UTF8.GetString(samText),
            [BamColumns.CoordinatesKey] = BamColumns.CoordinatesValue,
            [BamColumns.VersionKey] = Version,
        };
        if (sourceName is not null)
        {
            metadata[BamColumns.SourceKey] = sourceName;
        }

        Schema = new Schema(fields, metadata);
    }

    /// <summary>The Bamflow version written into the metadata.</summary>
    public static string Version { get; } =
        typeof(BamArrowSchema).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The Arrow schema.</summary>
    public Schema Schema { get; }

    /// <summary>The rows of <see cref="RecordBatchBuilder.ColumnTable"/> this schema has: one per field of <see cref="Schema"/>, in the same order.</summary>
    internal IReadOnlyList<BamColumn> Columns { get; }

    /// <summary>The input's name (for messages and the bamflow.source metadata), when known.</summary>
    public string? SourceName { get; }

    /// <summary>The BAM header the records come from.</summary>
    public BamHeader Header { get; }

    /// <summary>The options the schema was built with.</summary>
    public ConversionOptions Options { get; }

    /// <summary>The children of the tags struct, in order, each with its <see cref="TagColumn.Name"/> set by <see cref="TagNaming"/>.</summary>
    public IReadOnlyList<TagColumn> TagColumns { get; }

    /// <summary>Whether the schema has the tags struct (tag selection not "none", and at least one tag).</summary>
    public bool HasTagsColumn { get; }

    /// <summary>Whether the schema has the tags_other column (tag selection not "none").</summary>
    public bool HasTagsOtherColumn { get; }

    /// <summary>The reference names, shared by every batch's rname and rnext dictionary.</summary>
    public StringArray ReferenceDictionary { get; }

    /// <summary>Discovers tag columns from records (see <see cref="TagDiscovery"/>) and builds the schema.</summary>
    public static BamArrowSchema Create(BamHeader header, ConversionOptions options, TagDiscovery discovery, string? sourceName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(discovery);
        IReadOnlyList<TagColumn> tags = options.TagMode switch
        {
            TagMode.Discover => discovery.Columns,
            TagMode.Explicit => discovery.ColumnsFor(options.Tags),
            _ => [],
        };
        return new BamArrowSchema(header, options, tags, sourceName);
    }

    /// <summary>The columns with their child names: a tag that differs from another only in case gets a suffix.</summary>
    private static TagColumn[] Named(IReadOnlyList<TagColumn> columns)
    {
        string[] names = TagNaming.ChildNames(columns.Select(c => c.Tag).ToList());
        return [.. columns.Select((c, i) => c with { Name = names[i] })];
    }

    /// <summary>
    /// Throws when the header cannot be written exactly: reference names go into Utf8 dictionaries and the header text
    /// into metadata strings, and bytes that are not UTF-8 could only be stored altered (samtools accepts such bytes
    /// and prints them raw; a run that writes nothing, such as statistics, accepts them too).
    /// </summary>
    /// <exception cref="BamHeaderFormatException">A reference name or the header text is not valid UTF-8.</exception>
    public void ThrowIfNotWritable() => Header.ThrowIfNotUtf8(SourceName);

    private static StringArray BuildReferenceDictionary(BamHeader header)
    {
        var builder = new StringArray.Builder();
        foreach (BamReference reference in header.References)
        {
            builder.Append(reference.NameUtf8.Span);
        }

        return builder.Build();
    }
}
