using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>
/// Every column Bamflow writes, in schema order: the one list that both the schema (<see cref="BamArrowSchema"/>: which
/// fields, of which types) and the batch builder (<see cref="RecordBatchBuilder"/>: which arrays, filled how) are made
/// from. Adding, removing or moving a column is an edit of this table (and, for a new column, its writer below).
/// </summary>
internal static class BamColumnTable
{
    private static readonly DictionaryType s_reference = new(Int32Type.Default, StringType.Default, ordered: false);

    /// <summary>The columns, in schema order; each is present in a schema when its condition holds.</summary>
    public static IReadOnlyList<ColumnDefinition> All { get; } =
    [
        //  name                   Arrow type          null   present when                      writer (one per builder)
        new(BamColumns.QName,      StringType.Default, true,  Always,                           static (c, f) => new QNameWriter(c)),
        new(BamColumns.Flag,       UInt16Type.Default, false, Always,                           static (c, f) => new FlagWriter(c, f)),
        new(BamColumns.RName,      s_reference,        true,  Always,                           static (c, f) => new ReferenceWriter(c, f, mate: false)),
        new(BamColumns.Pos,        Int32Type.Default,  true,  Always,                           static (c, f) => new PositionWriter(c, f, mate: false)),
        new(BamColumns.Mapq,       UInt8Type.Default,  true,  Always,                           static (c, f) => new MapqWriter(c, f)),
        new(BamColumns.Cigar,      StringType.Default, true,  Always,                           static (c, f) => new CigarWriter(c)),
        new(BamColumns.RNext,      s_reference,        true,  Always,                           static (c, f) => new ReferenceWriter(c, f, mate: true)),
        new(BamColumns.PNext,      Int32Type.Default,  true,  Always,                           static (c, f) => new PositionWriter(c, f, mate: true)),
        new(BamColumns.Tlen,       Int32Type.Default,  false, Always,                           static (c, f) => new TlenWriter(c, f)),
        new(BamColumns.Seq,        StringType.Default, true,  s => s.Options.IncludeSequence,   static (c, f) => new SeqWriter(c)),
        new(BamColumns.Qual,       StringType.Default, true,  s => s.Options.IncludeQuality,    static (c, f) => new QualWriter(c)),
        new(BamColumns.End,        Int32Type.Default,  true,  Always,                           static (c, f) => new EndWriter(c, f)),
        new(BamColumns.Tags,       TagsStruct,         false, s => s.HasTagsColumn,             static (c, f) => new TagsStructWriter(c.Tags, f)),
        new(BamColumns.TagsOther,  StringType.Default, true,  s => s.HasTagsOtherColumn,        static (c, f) => new TagsOtherWriter(c.Tags)),
    ];

    private static bool Always(BamArrowSchema schema) => true;

    /// <summary>The tags struct: one child per tag column, each with its <c>sam.tag</c> and <c>sam.type</c> metadata.</summary>
    private static StructType TagsStruct(BamArrowSchema schema) => new([.. schema.TagColumns.Select(c => c.ToField())]);
}

/// <summary>One row of <see cref="BamColumnTable"/>: a column's name, Arrow type, nullability, when it is present, and its writer.</summary>
internal sealed class ColumnDefinition
{
    private readonly Func<BamArrowSchema, IArrowType> _type;
    private readonly Func<BamArrowSchema, bool> _isPresent;
    private readonly Func<ColumnWriterContext, Field, ColumnWriter> _createWriter;

    public ColumnDefinition(string name, IArrowType type, bool nullable, Func<BamArrowSchema, bool> isPresent, Func<ColumnWriterContext, Field, ColumnWriter> createWriter)
        : this(name, _ => type, nullable, isPresent, createWriter)
    {
    }

    public ColumnDefinition(string name, Func<BamArrowSchema, IArrowType> type, bool nullable, Func<BamArrowSchema, bool> isPresent, Func<ColumnWriterContext, Field, ColumnWriter> createWriter)
    {
        Name = name;
        Nullable = nullable;
        _type = type;
        _isPresent = isPresent;
        _createWriter = createWriter;
    }

    /// <summary>The field name (a <see cref="BamColumns"/> constant).</summary>
    public string Name { get; }

    /// <summary>Whether the field is nullable.</summary>
    public bool Nullable { get; }

    /// <summary>Whether a schema under construction (its options and tag columns set) has this column.</summary>
    public bool IsPresent(BamArrowSchema schema) => _isPresent(schema);

    /// <summary>The column's field in <paramref name="schema"/>.</summary>
    public Field CreateField(BamArrowSchema schema) => new(Name, _type(schema), Nullable);

    /// <summary>A writer for one builder, producing arrays of <paramref name="field"/>'s type.</summary>
    public ColumnWriter CreateWriter(ColumnWriterContext context, Field field) => _createWriter(context, field);
}

/// <summary>
/// Fills one column from records and hands it over as an array of its field's type. One per builder and column,
/// reused batch after batch; <see cref="Append"/> runs for every record and allocates nothing.
/// </summary>
internal abstract class ColumnWriter
{
    /// <summary>Appends <paramref name="record"/>'s value as the next row.</summary>
    public abstract void Append(in BamRecord record);

    /// <summary>The <paramref name="count"/> rows appended since the last call, as an array; starts the next batch.</summary>
    public abstract IArrowArray Build(int count);
}

/// <summary>What a builder's writers are made from: the schema, the buffer pool, the expected rows, and state columns share.</summary>
internal sealed class ColumnWriterContext(BamArrowSchema schema, ColumnBufferPool pool, int rows)
{
    private RecordBatchBuilder.TagsBuilder? _tags;

    public BamArrowSchema Schema { get; } = schema;

    public ColumnBufferPool Pool { get; } = pool;

    /// <summary>Rows a batch is expected to hold (the first capacity of every buffer).</summary>
    public int Rows { get; } = rows;

    /// <summary>The one pass over a record's tags that fills both the tags struct and tags_other.</summary>
    public RecordBatchBuilder.TagsBuilder Tags => _tags ??= new RecordBatchBuilder.TagsBuilder(Schema, Pool, Rows);
}
