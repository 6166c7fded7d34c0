using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Arrow;

/// <summary>
/// The schema and the batch builder come from one column table; for every combination of column options, a built
/// batch has exactly the documented columns, each array of its field's type, and every row as samtools shows it.
/// </summary>
public sealed class RecordBatchBuilderTests
{
    /// <summary>The documented schema (README: Schema), written out independently of the code: name, type, nullable.</summary>
    private static readonly (string Name, ArrowTypeId Type, bool Nullable)[] s_documented =
    [
        ("qname", ArrowTypeId.String, true),
        ("flag", ArrowTypeId.UInt16, false),
        ("rname", ArrowTypeId.Dictionary, true),
        ("pos", ArrowTypeId.Int32, true),
        ("mapq", ArrowTypeId.UInt8, true),
        ("cigar", ArrowTypeId.String, true),
        ("rnext", ArrowTypeId.Dictionary, true),
        ("pnext", ArrowTypeId.Int32, true),
        ("tlen", ArrowTypeId.Int32, false),
        ("seq", ArrowTypeId.String, true),
        ("qual", ArrowTypeId.String, true),
        ("end", ArrowTypeId.Int32, true),
        ("tags", ArrowTypeId.Struct, false),
        ("tags_other", ArrowTypeId.String, true),
    ];

    private static readonly string[] s_explicitTags = ["NM", "nM", "BA", "XA", "Md", "NH"];

    public enum Tags
    {
        /// <summary>Discovered tag children, and tags_other.</summary>
        Discovered,
        /// <summary>Discovery found no tags: tags_other only.</summary>
        DiscoveredNone,
        /// <summary>Explicit tags (one of them absent from the data): their children, and tags_other for misfits.</summary>
        Explicit,
        /// <summary>No tag columns.</summary>
        None,
    }

    public static TheoryData<string, bool, bool, Tags> Cases()
    {
        var cases = new TheoryData<string, bool, bool, Tags>();
        foreach (string fixture in new[] { "case-tags.bam", "edge-cases.bam", "sample.bam" })
        {
            foreach (bool seq in new[] { true, false })
            {
                foreach (bool qual in new[] { true, false })
                {
                    foreach (Tags tags in Enum.GetValues<Tags>())
                    {
                        cases.Add(fixture, seq, qual, tags);
                    }
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Build_EveryColumnOption_ArraysMatchTheirFieldsAndRowsMatchSamtools(string fixture, bool seq, bool qual, Tags tags)
    {
        string path = Conversion.Fixture(fixture);
        string context = $"{fixture} @ seq={seq}, qual={qual}, tags={tags}";
        var options = new ConversionOptions
        {
            IncludeSequence = seq,
            IncludeQuality = qual,
            TagMode = tags switch { Tags.Explicit => TagMode.Explicit, Tags.None => TagMode.None, _ => TagMode.Discover },
            Tags = tags == Tags.Explicit ? s_explicitTags : [],
        };
        BamArrowSchema schema = Plan(path, options, tags);

        var batches = new List<RecordBatch>();
        using (BamReader reader = BamReader.Open(path))
        {
            var builder = new RecordBatchBuilder(schema, ColumnBufferPool.CreatePooling());
            while (reader.TryRead(out BamRecord record))
            {
                builder.Append(record);
                if (builder.Count == 7)
                {
                    batches.Add(builder.Build());
                }
            }

            batches.Add(builder.Build());
        }

        string[] expectedNames = [.. s_documented.Select(c => c.Name).Where(name => name switch
        {
            "seq" => seq,
            "qual" => qual,
            "tags" => tags is Tags.Discovered or Tags.Explicit,
            "tags_other" => tags != Tags.None,
            _ => true,
        })];
        Assert.True(expectedNames.SequenceEqual(schema.Schema.FieldsList.Select(f => f.Name)),
            $"{context}: schema columns [{string.Join(' ', schema.Schema.FieldsList.Select(f => f.Name))}], documented [{string.Join(' ', expectedNames)}]");
        foreach (RecordBatch batch in batches)
        {
            Assert.Same(schema.Schema, batch.Schema);
            Assert.True(batch.ColumnCount == expectedNames.Length, $"{context}: {batch.ColumnCount} arrays for {expectedNames.Length} fields");
            for (int i = 0; i < batch.ColumnCount; i++)
            {
                Field field = schema.Schema.GetFieldByIndex(i);
                (string _, ArrowTypeId type, bool nullable) = s_documented.Single(c => c.Name == field.Name);
                IArrowArray array = batch.Column(i);
                string column = $"{context}, column {field.Name}";
                Assert.True(field.DataType.TypeId == type, $"{column}: field type {field.DataType.Name}, documented {type}");
                Assert.True(field.IsNullable == nullable, $"{column}: field nullable {field.IsNullable}, documented {nullable}");
                AssertSameType(field.DataType, array, column);
                Assert.True(array.Length == batch.Length, $"{column}: {array.Length} values in a batch of {batch.Length} rows");
                Assert.True(nullable || array.NullCount == 0, $"{column}: {array.NullCount} nulls in a non-nullable field");
            }
        }

        ArrowSam.AssertSame(Expected(path, seq, qual, tags), [.. ArrowSam.Lines(batches)], context);
    }

    /// <summary>The schema the engine would plan: discovery over the records, as in <see cref="BamArrowSchema.Create"/>.</summary>
    private static BamArrowSchema Plan(string path, ConversionOptions options, Tags tags)
    {
        using BamReader reader = BamReader.Open(path);
        var discovery = new TagDiscovery();
        while (reader.TryRead(out BamRecord record))
        {
            discovery.Observe(record);
        }

        return tags == Tags.DiscoveredNone
            ? new BamArrowSchema(reader.Header, options, [], Path.GetFileName(path))
            : BamArrowSchema.Create(reader.Header, options, discovery, Path.GetFileName(path));
    }

    /// <summary>samtools view's lines, less what the options leave out.</summary>
    private static List<ArrowSam.Line> Expected(string path, bool seq, bool qual, Tags tags) =>
    [
        .. ArrowSam.SamtoolsLines(path).Select(line =>
        {
            string[] fields = line.Fields.Split('\t');
            fields[9] = seq ? fields[9] : "(no seq)";
            fields[10] = qual ? fields[10] : "(no qual)";
            string[] kept = tags switch
            {
                Tags.None => [],
                Tags.Explicit => [.. line.Tags.Where(t => s_explicitTags.Contains(t[..2], StringComparer.Ordinal))],
                _ => line.Tags,
            };
            return new ArrowSam.Line(string.Join('\t', fields), kept);
        }),
    ];

    /// <summary>The array is of the field's type, and so are its indices and dictionary, struct children and list elements.</summary>
    private static void AssertSameType(IArrowType field, IArrowArray array, string context)
    {
        Assert.True(field.TypeId == array.Data.DataType.TypeId, $"{context}: array of {array.Data.DataType.Name} in a field of {field.Name}");
        switch (field)
        {
            case DictionaryType dictionary:
                var dictionaryArray = (DictionaryArray)array;
                AssertSameType(dictionary.IndexType, dictionaryArray.Indices, context + " (indices)");
                AssertSameType(dictionary.ValueType, dictionaryArray.Dictionary, context + " (dictionary)");
                break;
            case StructType structType:
                var structArray = (StructArray)array;
                Assert.True(structType.Fields.Count == structArray.Fields.Count, $"{context}: {structArray.Fields.Count} child arrays, the field has {structType.Fields.Count} children");
                for (int i = 0; i < structType.Fields.Count; i++)
                {
                    AssertSameType(structType.Fields[i].DataType, structArray.Fields[i], $"{context}.{structType.Fields[i].Name}");
                    Assert.True(structArray.Fields[i].Length == array.Length, $"{context}.{structType.Fields[i].Name}: {structArray.Fields[i].Length} values in a struct of {array.Length}");
                }

                break;
            case ListType list:
                AssertSameType(list.ValueDataType, ((ListArray)array).Values, context + " (elements)");
                break;
            default:
                Assert.True(field.Name == array.Data.DataType.Name, $"{context}: array of {array.Data.DataType.Name} in a field of {field.Name}");
                break;
        }
    }
}
