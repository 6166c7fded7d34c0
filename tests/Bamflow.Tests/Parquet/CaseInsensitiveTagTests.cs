using Bamflow.Parquet;
using Bamflow.Tests.Arrow;
using Bamflow.Tests.Support;
using DuckDB.NET.Data;

namespace Bamflow.Tests.Parquet;

/// <summary>
/// DuckDB resolves names without regard to case. On tests/fixtures/case-tags.bam (NM and nM as STAR writes them,
/// BC/Bc, MD/md/mD/Md, X0/x0, qx/qX, mixed-type tags), every tag's documented child name returns exactly the
/// values samtools view shows for that tag, in every record, and no tag's own name returns another tag's values.
/// </summary>
public sealed class CaseInsensitiveTagTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bamflow-case-").FullName;
    private readonly string _fixture = Conversion.Fixture("case-tags.bam");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DuckDb_DocumentedChildName_ReturnsThatTagsValuesInEveryRecord()
    {
        string parquet = Convert();
        List<Dictionary<string, string>> samtools = SamtoolsTags();
        using DuckDBConnection connection = ParquetSam.Open();

        foreach ((string name, string tag, string type) in TagNamingTests.CaseTagsChildren)
        {
            // The name as documented, and in other cases: DuckDB matches any of them to the same child.
            foreach (string spelling in new[] { name, name.ToUpperInvariant(), name.ToLowerInvariant() })
            {
                List<object?[]> rows = ParquetSam.Query(connection, $"SELECT tags.{spelling} FROM read_parquet({ParquetSam.Quote(parquet)}, file_row_number = true) ORDER BY file_row_number");
                Assert.Equal(samtools.Count, rows.Count);
                for (int row = 0; row < rows.Count; row++)
                {
                    string? expected = samtools[row].GetValueOrDefault(tag);
                    string? actual = rows[row][0] is { } value ? ParquetSam.TagText(type, value, tag) : null;
                    Assert.True(expected == actual, $"tags.{spelling} (tag {tag}) @ row {row + 1}: samtools {expected ?? "(absent)"}, DuckDB {actual ?? "NULL"}");
                }
            }
        }
    }

    [Fact]
    public void DuckDb_TagNameOfARenamedChild_IsAnErrorNotAnotherTagsValues()
    {
        string parquet = Convert();
        using DuckDBConnection connection = ParquetSam.Open();

        // Before the children were named by their case, DuckDB renamed the second of NM and nM "nM_1", and tags.nM
        // returned NM's values. Now no child answers to a bare tag of a group: the query fails to bind.
        // (DuckDB.NET reports a binder error's type as Invalid, so the test cannot tell it from other errors by its
        // type; the documented name is queried on the same file first, so the file is not what fails.)
        foreach ((string name, string tag, _) in TagNamingTests.CaseTagsChildren.Where(c => c.Name != c.Tag))
        {
            Assert.Equal(5, ParquetSam.Query(connection, $"SELECT tags.{name} FROM {ParquetSam.Quote(parquet)}").Count);
            Assert.ThrowsAny<DuckDBException>(() => ParquetSam.Query(connection, $"SELECT tags.\"{tag}\" FROM {ParquetSam.Quote(parquet)}"));
        }
    }

    [Fact]
    public void DuckDb_CaseTagsFixture_SeesExactlyTheChildrenAndReadsEveryRowAsSamtoolsPrintsIt()
    {
        string parquet = Convert();

        Dictionary<string, string> names = ParquetSam.TagNames(parquet);
        Dictionary<string, string> types = ParquetSam.TagTypes(parquet);

        Assert.Equal(TagNamingTests.CaseTagsChildren.Select(c => (c.Name, c.Tag)), names.Select(p => (p.Key, p.Value)));
        Assert.Equal(TagNamingTests.CaseTagsChildren.Select(c => (c.Name, c.Type)), types.Select(p => (p.Key, p.Value)));
        ArrowSam.AssertSame(ArrowSam.SamtoolsLines(_fixture), ParquetSam.Lines(parquet), "case-tags.bam"); // also: DuckDB renamed no child
        Assert.Contains(ParquetSink.TagNamesKey, ParquetSam.KeyValueMetadata(parquet).Keys);
    }

    private string Convert()
    {
        string output = Path.Combine(_dir, "case.parquet");
        ParquetSam.Convert(_fixture, output);
        return output;
    }

    /// <summary>samtools view's tags of each record: exact tag → "TYPE:VALUE".</summary>
    private List<Dictionary<string, string>> SamtoolsTags() =>
        [.. ArrowSam.SamtoolsLines(_fixture).Select(line => line.Tags.ToDictionary(t => t[..2], t => t[3..], StringComparer.Ordinal))];
}
