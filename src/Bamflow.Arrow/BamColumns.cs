namespace Bamflow.Arrow;

/// <summary>Column names of the Arrow schema, and the metadata keys Bamflow writes.</summary>
public static class BamColumns
{
    /// <summary>QNAME, Utf8, null when '*'.</summary>
    public const string QName = "qname";
    /// <summary>FLAG, UInt16.</summary>
    public const string Flag = "flag";
    /// <summary>RNAME, Dictionary&lt;Int32, Utf8&gt; over the header's references, null when refID is -1.</summary>
    public const string RName = "rname";
    /// <summary>POS, Int32 1-based, null when unplaced.</summary>
    public const string Pos = "pos";
    /// <summary>MAPQ, UInt8, null when 255.</summary>
    public const string Mapq = "mapq";
    /// <summary>CIGAR, Utf8, null when absent.</summary>
    public const string Cigar = "cigar";
    /// <summary>RNEXT, Dictionary&lt;Int32, Utf8&gt; (the actual name, never '='), null when -1.</summary>
    public const string RNext = "rnext";
    /// <summary>PNEXT, Int32 1-based, null when unplaced.</summary>
    public const string PNext = "pnext";
    /// <summary>TLEN, Int32.</summary>
    public const string Tlen = "tlen";
    /// <summary>SEQ, Utf8, null when '*'.</summary>
    public const string Seq = "seq";
    /// <summary>QUAL, Utf8 Phred+33, null when '*'.</summary>
    public const string Qual = "qual";
    /// <summary>1-based inclusive reference end from POS and CIGAR, Int32, null when unmapped or no CIGAR.</summary>
    public const string End = "end";
    /// <summary>Struct with one child per selected tag.</summary>
    public const string Tags = "tags";
    /// <summary>SAM text of the tags that have no child (or whose value did not fit it), tab-separated.</summary>
    public const string TagsOther = "tags_other";

    /// <summary>Field metadata key on each tag child: the exact SAM tag (the child's name may carry a suffix, see <see cref="TagNaming"/>).</summary>
    public const string SamTagKey = "sam.tag";
    /// <summary>Field metadata key on each tag child: the SAM type (i, f, A, Z, H, B:C, …, or mixed).</summary>
    public const string SamTypeKey = "sam.type";
    /// <summary>Schema metadata key: the SAM header text.</summary>
    public const string SamHeaderKey = "sam.header";
    /// <summary>Schema metadata key: the coordinate convention.</summary>
    public const string CoordinatesKey = "sam.coordinates";
    /// <summary>Schema metadata key: the Bamflow version that wrote the file.</summary>
    public const string VersionKey = "bamflow.version";
    /// <summary>Schema metadata key: the source file name.</summary>
    public const string SourceKey = "bamflow.source";

    /// <summary>The coordinate convention written under <see cref="CoordinatesKey"/>.</summary>
    public const string CoordinatesValue = "1-based, closed: pos, pnext and end are 1-based as in SAM text; end is inclusive";

    /// <summary>The SAM type of a tag whose stored types conflict across records.</summary>
    public const string MixedType = "mixed";
}
