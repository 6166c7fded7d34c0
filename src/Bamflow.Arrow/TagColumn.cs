using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Bam;

namespace Bamflow.Arrow;

/// <summary>How a tag's values are stored in its child column.</summary>
public enum TagKind
{
    /// <summary>Every integer width (c C s S i I) → Int64, SAM type "i".</summary>
    Integer,
    /// <summary>f → Float32.</summary>
    Float,
    /// <summary>A → Utf8 (one character).</summary>
    Character,
    /// <summary>Z → Utf8.</summary>
    String,
    /// <summary>H → Utf8 (the hex digits).</summary>
    Hex,
    /// <summary>B:x → List of the element type.</summary>
    Array,
    /// <summary>Conflicting types → Utf8 SAM text with the type prefix ("i:3", "Z:foo", "B:C,1,2").</summary>
    Mixed,
}

/// <summary>One child of the <c>tags</c> struct: a tag, the child's name, and how its values are typed.</summary>
/// <param name="Tag">The exact two-character SAM tag.</param>
/// <param name="Kind">How values are stored.</param>
/// <param name="ArraySubtype">For <see cref="TagKind.Array"/>: the element type (c C s S i I f).</param>
public sealed record TagColumn(string Tag, TagKind Kind, byte ArraySubtype = 0)
{
    /// <summary>
    /// The child's name in the schema: <see cref="Tag"/>, unless another tag of the schema differs from it only
    /// in case (see <see cref="TagNaming"/>; <see cref="BamArrowSchema"/> sets it).
    /// </summary>
    public string Name { get; init; } = Tag;

    /// <summary>The SAM type written to the child's <c>sam.type</c> metadata.</summary>
    public string SamType => Kind switch
    {
        TagKind.Integer => "i",
        TagKind.Float => "f",
        TagKind.Character => "A",
        TagKind.String => "Z",
        TagKind.Hex => "H",
        TagKind.Array => "B:" + (char)ArraySubtype,
        _ => BamColumns.MixedType,
    };

    /// <summary>
    /// The column of <paramref name="tag"/> whose <see cref="SamType"/> is <paramref name="samType"/> (as a schema's
    /// <c>sam.type</c> or a shard plan stores it); null when the tag or the type is not one a column can have.
    /// </summary>
    public static TagColumn? Parse(string tag, string samType)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ArgumentNullException.ThrowIfNull(samType);
        // Any two characters: a file's tags need not follow SAMv1 §1.5, and a scan keeps them as they are.
        return tag.Length != 2 ? null : samType switch
        {
            "i" => new TagColumn(tag, TagKind.Integer),
            "f" => new TagColumn(tag, TagKind.Float),
            "A" => new TagColumn(tag, TagKind.Character),
            "Z" => new TagColumn(tag, TagKind.String),
            "H" => new TagColumn(tag, TagKind.Hex),
            BamColumns.MixedType => new TagColumn(tag, TagKind.Mixed),
            ['B', ':', char subtype] when "cCsSiIf".Contains(subtype, StringComparison.Ordinal) => new TagColumn(tag, TagKind.Array, (byte)subtype),
            _ => null,
        };
    }

    /// <summary>The 16-bit key of the tag (first character in the low byte), as <see cref="AuxField.TagKey"/>.</summary>
    public ushort TagKey => (ushort)(Tag[0] | (Tag[1] << 8));

    /// <summary>The column a stored aux value of type <paramref name="type"/> (and array subtype) would get on its own.</summary>
    public static TagColumn For(string tag, byte type, byte arraySubtype) => type switch
    {
        (byte)'f' => new TagColumn(tag, TagKind.Float),
        (byte)'A' => new TagColumn(tag, TagKind.Character),
        (byte)'Z' => new TagColumn(tag, TagKind.String),
        (byte)'H' => new TagColumn(tag, TagKind.Hex),
        (byte)'B' => new TagColumn(tag, TagKind.Array, arraySubtype),
        _ => new TagColumn(tag, TagKind.Integer),
    };

    /// <summary>Whether a stored value of <paramref name="type"/> (and subtype) fits this column without changing type.</summary>
    public bool Accepts(byte type, byte arraySubtype) => Kind switch
    {
        TagKind.Integer => AuxDecoder.IsIntegerType(type),
        TagKind.Float => type == (byte)'f',
        TagKind.Character => type == (byte)'A',
        TagKind.String => type == (byte)'Z',
        TagKind.Hex => type == (byte)'H',
        TagKind.Array => type == (byte)'B' && arraySubtype == ArraySubtype,
        _ => true,
    };

    /// <summary>The Arrow field of this child, named <see cref="Name"/>, with its <c>sam.tag</c> and <c>sam.type</c> metadata.</summary>
    public Field ToField() => new(Name, ArrowType, nullable: true, [new(BamColumns.SamTagKey, Tag), new(BamColumns.SamTypeKey, SamType)]);

    /// <summary>The Arrow type of the values.</summary>
    public IArrowType ArrowType => Kind switch
    {
        TagKind.Integer => Int64Type.Default,
        TagKind.Float => FloatType.Default,
        TagKind.Array => new ListType(new Field("item", ElementType(ArraySubtype), nullable: false)),
        _ => StringType.Default,
    };

    /// <summary>The Arrow element type of a B array subtype.</summary>
    public static IArrowType ElementType(byte subtype) => subtype switch
    {
        (byte)'c' => Int8Type.Default,
        (byte)'C' => UInt8Type.Default,
        (byte)'s' => Int16Type.Default,
        (byte)'S' => UInt16Type.Default,
        (byte)'i' => Int32Type.Default,
        (byte)'I' => UInt32Type.Default,
        (byte)'f' => FloatType.Default,
        _ => throw new ArgumentOutOfRangeException(nameof(subtype), $"'{(char)subtype}' is not a B array subtype"),
    };

    /// <summary>Parses a tag name given by a user (two characters, [A-Za-z][A-Za-z0-9] per SAMv1 §1.5).</summary>
    public static bool IsValidTagName(string tag) =>
        tag.Length == 2 && char.IsAsciiLetter(tag[0]) && char.IsAsciiLetterOrDigit(tag[1]);

    /// <summary>The tag name of an aux field.</summary>
    public static string TagName(AuxField field) => Encoding.ASCII.GetString(field.Tag);
}
