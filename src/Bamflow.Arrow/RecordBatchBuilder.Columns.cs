using Apache.Arrow;
using Apache.Arrow.Types;

namespace Bamflow.Arrow;

public sealed partial class RecordBatchBuilder
{
    private static readonly DictionaryType s_referenceType = new(Int32Type.Default, StringType.Default, ordered: false);

    /// <summary>
    /// Every column Bamflow writes, in schema order: the one list that <see cref="BamArrowSchema"/> makes its fields from
    /// and this builder makes its column stores and arrays from. Each row says, once, a column's name, Arrow type,
    /// nullability, when it is present, the store it fills (with its first capacity) and how a batch's array is made
    /// from that store. Only <see cref="Append"/>, the per-record code, is written out by hand over the stores, so that
    /// it stays straight-line code over concrete fields; a column it fills must have its row here, or its store is null.
    /// </summary>
    internal static IReadOnlyList<BamColumn> ColumnTable { get; } =
    [
        //  name                  Arrow type          null   present when                     store (per builder, per schema)                                 array (per batch)
        new(BamColumns.QName,     StringType.Default, true,  Always,                          static (b, p, n) => b._qname = new Utf8Column(p, n, n * 24),          static (b, f) => b._qname.Build()),
        new(BamColumns.Flag,      UInt16Type.Default, false, Always,                          static (b, p, n) => b._flag = new(p, n, UInt16Type.Default),          static (b, f) => b._flag.Build()),
        new(BamColumns.RName,     s_referenceType,    true,  Always,                          static (b, p, n) => b._rname = new(p, n, Int32Type.Default),          static (b, f) => b.Reference(f, b._rname)),
        new(BamColumns.Pos,       Int32Type.Default,  true,  Always,                          static (b, p, n) => b._pos = new(p, n, Int32Type.Default),            static (b, f) => b._pos.Build()),
        new(BamColumns.Mapq,      UInt8Type.Default,  true,  Always,                          static (b, p, n) => b._mapq = new(p, n, UInt8Type.Default),           static (b, f) => b._mapq.Build()),
        new(BamColumns.Cigar,     StringType.Default, true,  Always,                          static (b, p, n) => b._cigar = new Utf8Column(p, n, n * 8),           static (b, f) => b._cigar.Build()),
        new(BamColumns.RNext,     s_referenceType,    true,  Always,                          static (b, p, n) => b._rnext = new(p, n, Int32Type.Default),          static (b, f) => b.Reference(f, b._rnext)),
        new(BamColumns.PNext,     Int32Type.Default,  true,  Always,                          static (b, p, n) => b._pnext = new(p, n, Int32Type.Default),          static (b, f) => b._pnext.Build()),
        new(BamColumns.Tlen,      Int32Type.Default,  false, Always,                          static (b, p, n) => b._tlen = new(p, n, Int32Type.Default),           static (b, f) => b._tlen.Build()),
        new(BamColumns.Seq,       StringType.Default, true,  s => s.Options.IncludeSequence,  static (b, p, n) => b._seq = new Utf8Column(p, n, n * 150),           static (b, f) => b._seq!.Build()),
        new(BamColumns.Qual,      StringType.Default, true,  s => s.Options.IncludeQuality,   static (b, p, n) => b._qual = new Utf8Column(p, n, n * 150),          static (b, f) => b._qual!.Build()),
        new(BamColumns.End,       Int32Type.Default,  true,  Always,                          static (b, p, n) => b._end = new(p, n, Int32Type.Default),            static (b, f) => b._end.Build()),
        new(BamColumns.Tags,      TagsStruct,         false, s => s.HasTagsColumn,            static (b, p, n) => b._tags.CreateChildren(p, n),                     static (b, f) => b._tags.BuildStruct(f, b.Count)),
        new(BamColumns.TagsOther, StringType.Default, true,  s => s.HasTagsOtherColumn,       static (b, p, n) => b._tags.CreateOther(p, n),                        static (b, f) => b._tags.BuildOther()),
    ];

    private static bool Always(BamArrowSchema schema) => true;

    /// <summary>The tags struct: one child per tag column, each with its <c>sam.tag</c> and <c>sam.type</c> metadata.</summary>
    private static StructType TagsStruct(BamArrowSchema schema) => new([.. schema.TagColumns.Select(c => c.ToField())]);

    /// <summary>A reference column's indices over the header's names, as the dictionary type of <paramref name="field"/>.</summary>
    private DictionaryArray Reference(Field field, PrimitiveColumn<int> indices) =>
        new((DictionaryType)field.DataType, indices.Build(), _schema.ReferenceDictionary);
}

/// <summary>
/// One row of <see cref="RecordBatchBuilder.ColumnTable"/>: a column's name, Arrow type, nullability and when it is
/// present (what <see cref="BamArrowSchema"/> needs), and how a <see cref="RecordBatchBuilder"/> makes its store and,
/// per batch, its array. Nothing here runs per record.
/// </summary>
internal sealed class BamColumn
{
    private readonly Func<BamArrowSchema, IArrowType> _type;
    private readonly Func<BamArrowSchema, bool> _isPresent;
    private readonly Action<RecordBatchBuilder, ColumnBufferPool, int> _createStore;
    private readonly Func<RecordBatchBuilder, Field, IArrowArray> _build;

    public BamColumn(
        string name,
        IArrowType type,
        bool nullable,
        Func<BamArrowSchema, bool> isPresent,
        Action<RecordBatchBuilder, ColumnBufferPool, int> createStore,
        Func<RecordBatchBuilder, Field, IArrowArray> build)
        : this(name, _ => type, nullable, isPresent, createStore, build)
    {
    }

    public BamColumn(
        string name,
        Func<BamArrowSchema, IArrowType> type,
        bool nullable,
        Func<BamArrowSchema, bool> isPresent,
        Action<RecordBatchBuilder, ColumnBufferPool, int> createStore,
        Func<RecordBatchBuilder, Field, IArrowArray> build)
    {
        Name = name;
        Nullable = nullable;
        _type = type;
        _isPresent = isPresent;
        _createStore = createStore;
        _build = build;
    }

    /// <summary>The field name (a <see cref="BamColumns"/> constant).</summary>
    public string Name { get; }

    /// <summary>Whether the field is nullable.</summary>
    public bool Nullable { get; }

    /// <summary>Whether a schema under construction (its options and tag columns set) has this column.</summary>
    public bool IsPresent(BamArrowSchema schema) => _isPresent(schema);

    /// <summary>The column's field in <paramref name="schema"/>.</summary>
    public Field CreateField(BamArrowSchema schema) => new(Name, _type(schema), Nullable);

    /// <summary>Gives <paramref name="builder"/> the store it fills for this column, sized for <paramref name="rows"/> rows.</summary>
    public void CreateStore(RecordBatchBuilder builder, ColumnBufferPool pool, int rows) => _createStore(builder, pool, rows);

    /// <summary>The rows <paramref name="builder"/> has appended to this column's store, as an array of <paramref name="field"/>'s type.</summary>
    public IArrowArray Build(RecordBatchBuilder builder, Field field) => _build(builder, field);
}
