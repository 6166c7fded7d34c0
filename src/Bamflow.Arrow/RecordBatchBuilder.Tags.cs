using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Bam;

namespace Bamflow.Arrow;

public sealed partial class RecordBatchBuilder
{
    private readonly TagsBuilder _tags;

    /// <summary>
    /// Fills the tags struct and tags_other column in one pass over a record's tags. Has no columns until the table
    /// rows of the schema's tags and tags_other give it them (<see cref="CreateChildren"/>, <see cref="CreateOther"/>).
    /// </summary>
    private sealed class TagsBuilder
    {
        private readonly BamArrowSchema _schema;
        private readonly int[] _childByTag;      // tag key → child index, -1 when the tag has no child
        private readonly TextBuffer _text = new(256);
        private readonly bool _dropUnlisted;
        private TagChild[] _children = [];
        private long[] _filledAt = [];           // per child: the row it last received a value for
        private ulong[] _takes = [];             // per child: bit (type & 63) set for each stored type it takes as it is
        private Utf8Column? _other;
        private long _row;

        public TagsBuilder(BamArrowSchema schema)
        {
            _schema = schema;
            _childByTag = new int[ushort.MaxValue + 1];
            System.Array.Fill(_childByTag, -1);
            _dropUnlisted = schema.Options.TagMode == TagMode.Explicit;
        }

        /// <summary>Gives the struct its children, one per tag column of the schema.</summary>
        public void CreateChildren(ColumnBufferPool pool, int rows)
        {
            _children = [.. _schema.TagColumns.Select(c => TagChild.Create(c, pool, rows))];
            for (int i = 0; i < _children.Length; i++)
            {
                _childByTag[_schema.TagColumns[i].TagKey] = i;
            }

            _takes = [.. _schema.TagColumns.Select(TypeMask)];
            _filledAt = new long[_children.Length];
            System.Array.Fill(_filledAt, -1);
        }

        /// <summary>Gives the builder its tags_other column; without it, no record's tags are read (see <see cref="Append"/>).</summary>
        public void CreateOther(ColumnBufferPool pool, int rows) => _other = new Utf8Column(pool, rows, rows * 8);

        public void Append(BamRecord record)
        {
            if (_other is null)
            {
                return;
            }

            _text.Clear();
            foreach (AuxField field in record.AuxFields)
            {
                int child = _childByTag[field.TagKey];
                if (child >= 0)
                {
                    byte type = field.Type;
                    if (_filledAt[child] != _row && ((_takes[child] >> (type & 63)) & 1) != 0
                        && (type != (byte)'B' || _children[child].Column.Accepts(type, field.ArraySubtype)))
                    {
                        _children[child].Append(field, _text);
                        _filledAt[child] = _row;
                        continue;
                    }
                }
                else if (_dropUnlisted)
                {
                    continue;
                }

                // No child, a value of another type, or a repeated tag: keep it as SAM text.
                if (_text.Length > 0)
                {
                    _text.Append((byte)'\t');
                }

                SamFormatter.AppendAux(field, _text);
            }

            for (int i = 0; i < _children.Length; i++)
            {
                if (_filledAt[i] != _row)
                {
                    _children[i].AppendNull();
                }
            }

            if (_text.Length == 0)
            {
                _other.AppendNull();
            }
            else
            {
                _other.Append(_text.WrittenSpan);
            }

            _row++;
        }

        /// <summary>The stored types (the 11 SAM codes are distinct modulo 64) that <paramref name="column"/> takes; B also needs its subtype checked.</summary>
        private static ulong TypeMask(TagColumn column)
        {
            ulong mask = 0;
            foreach (byte type in "AcCsSiIfZHB"u8)
            {
                if (column.Accepts(type, column.ArraySubtype))
                {
                    mask |= 1UL << (type & 63);
                }
            }

            return mask;
        }

        /// <summary>The struct of the <paramref name="count"/> rows appended since the last call, as <paramref name="field"/>'s type.</summary>
        public StructArray BuildStruct(Field field, int count) =>
            new(field.DataType, count, [.. _children.Select(c => c.Build())], ArrowBuffer.Empty, 0, 0);

        /// <summary>The tags_other rows appended since the last call.</summary>
        public StringArray BuildOther() => _other!.Build();
    }

    /// <summary>One child column of the tags struct.</summary>
    private abstract class TagChild(TagColumn column)
    {
        public TagColumn Column { get; } = column;

        public static TagChild Create(TagColumn column, ColumnBufferPool pool, int rows) => column.Kind switch
        {
            TagKind.Integer => new IntegerChild(column, pool, rows),
            TagKind.Float => new FloatChild(column, pool, rows),
            TagKind.Array => new ArrayChild(column, pool, rows),
            _ => new TextChild(column, pool, rows),
        };

        /// <summary>Appends a value; <paramref name="scratch"/> holds the record's tags_other text and must be left as found.</summary>
        public abstract void Append(AuxField field, TextBuffer scratch);

        public abstract void AppendNull();

        public abstract IArrowArray Build();
    }

    private sealed class IntegerChild(TagColumn column, ColumnBufferPool pool, int rows) : TagChild(column)
    {
        private readonly PrimitiveColumn<long> _values = new(pool, rows, Int64Type.Default);

        public override void Append(AuxField field, TextBuffer scratch) => _values.Append(field.GetInt64());

        public override void AppendNull() => _values.AppendNull();

        public override IArrowArray Build() => _values.Build();
    }

    private sealed class FloatChild(TagColumn column, ColumnBufferPool pool, int rows) : TagChild(column)
    {
        private readonly PrimitiveColumn<float> _values = new(pool, rows, FloatType.Default);

        public override void Append(AuxField field, TextBuffer scratch) => _values.Append(field.GetSingle());

        public override void AppendNull() => _values.AppendNull();

        public override IArrowArray Build() => _values.Build();
    }

    /// <summary>A, Z and H values as their text; mixed-type values as SAM text with the type prefix.</summary>
    private sealed class TextChild(TagColumn column, ColumnBufferPool pool, int rows) : TagChild(column)
    {
        private readonly Utf8Column _values = new(pool, rows, rows * 8);

        public override void Append(AuxField field, TextBuffer scratch)
        {
            if (Column.Kind != TagKind.Mixed)
            {
                _values.Append(field.Value);
                return;
            }

            // Render "TYPE:VALUE" after the record's tags_other text, copy it out, then cut it off again.
            int mark = scratch.Length;
            SamFormatter.AppendAuxValue(field, scratch);
            _values.Append(scratch.WrittenSpan[mark..]);
            scratch.Truncate(mark);
        }

        public override void AppendNull() => _values.AppendNull();

        public override IArrowArray Build() => _values.Build();
    }

    /// <summary>B arrays as List&lt;element&gt;: the little-endian elements are copied as they are stored.</summary>
    private sealed class ArrayChild : TagChild
    {
        private readonly ByteStore _offsets;
        private readonly ByteStore _elements;
        private readonly Validity _validity;
        private readonly IArrowType _elementType;
        private int _count;
        private int _elementCount;

        public ArrayChild(TagColumn column, ColumnBufferPool pool, int rows)
            : base(column)
        {
            _offsets = new ByteStore(pool, (rows + 1) * 4, offsets: true);
            _elements = new ByteStore(pool, rows * 8);
            _validity = new Validity(pool, rows);
            _elementType = TagColumn.ElementType(column.ArraySubtype);
        }

        public override void Append(AuxField field, TextBuffer scratch)
        {
            _elements.Append(field.Value);
            _elementCount += field.ArrayCount;
            _offsets.Append(_elementCount);
            _validity.Append(true);
            _count++;
        }

        public override void AppendNull()
        {
            _offsets.Append(_elementCount);
            _validity.Append(false);
            _count++;
        }

        public override IArrowArray Build()
        {
            var values = ArrowArrayFactory.BuildArray(new ArrayData(_elementType, _elementCount, 0, 0, [ArrowBuffer.Empty, _elements.Detach()]));
            ArrowBuffer validity = _validity.Detach(out int nullCount);
            var list = new ListArray(Column.ArrowType, _count, _offsets.Detach(), values, validity, nullCount, 0);
            _count = 0;
            _elementCount = 0;
            return list;
        }
    }
}
