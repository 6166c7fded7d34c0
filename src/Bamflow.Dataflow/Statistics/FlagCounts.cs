namespace Bamflow.Dataflow;

/// <summary>
/// The counts <c>samtools flagstat</c> prints for one side of its QC split (QC-passed or QC-failed, FLAG 0x200),
/// counted by its rules (samtools 1.16 bam_stat.c). "Primary" means neither secondary (0x100) nor supplementary
/// (0x800); the pairing categories count primary records only.
/// </summary>
public sealed class FlagCounts
{
    /// <summary>Records.</summary>
    public long Total { get; internal set; }

    /// <summary>Records that are neither secondary nor supplementary.</summary>
    public long Primary { get; internal set; }

    /// <summary>Secondary records (0x100).</summary>
    public long Secondary { get; internal set; }

    /// <summary>Supplementary records that are not also secondary (0x800 without 0x100).</summary>
    public long Supplementary { get; internal set; }

    /// <summary>Duplicates (0x400), of any kind.</summary>
    public long Duplicates { get; internal set; }

    /// <summary>Primary duplicates.</summary>
    public long PrimaryDuplicates { get; internal set; }

    /// <summary>Mapped records (0x4 clear), of any kind.</summary>
    public long Mapped { get; internal set; }

    /// <summary>Primary mapped records.</summary>
    public long PrimaryMapped { get; internal set; }

    /// <summary>Primary records paired in sequencing (0x1).</summary>
    public long Paired { get; internal set; }

    /// <summary>Paired primary records that are read 1 (0x40).</summary>
    public long Read1 { get; internal set; }

    /// <summary>Paired primary records that are read 2 (0x80).</summary>
    public long Read2 { get; internal set; }

    /// <summary>Paired primary records mapped in a proper pair (0x2 set, 0x4 clear).</summary>
    public long ProperlyPaired { get; internal set; }

    /// <summary>Paired primary records with both the record and its mate mapped (0x4 and 0x8 clear).</summary>
    public long BothMapped { get; internal set; }

    /// <summary>Paired primary records mapped whose mate is unmapped (0x4 clear, 0x8 set).</summary>
    public long Singletons { get; internal set; }

    /// <summary>Of <see cref="BothMapped"/>: those whose mate's reference (next_refID) differs from refID.</summary>
    public long MateOnDifferentReference { get; internal set; }

    /// <summary>Of <see cref="MateOnDifferentReference"/>: those with MAPQ ≥ 5.</summary>
    public long MateOnDifferentReferenceMapq5 { get; internal set; }

    internal void Add(FlagCounts other)
    {
        Total += other.Total;
        Primary += other.Primary;
        Secondary += other.Secondary;
        Supplementary += other.Supplementary;
        Duplicates += other.Duplicates;
        PrimaryDuplicates += other.PrimaryDuplicates;
        Mapped += other.Mapped;
        PrimaryMapped += other.PrimaryMapped;
        Paired += other.Paired;
        Read1 += other.Read1;
        Read2 += other.Read2;
        ProperlyPaired += other.ProperlyPaired;
        BothMapped += other.BothMapped;
        Singletons += other.Singletons;
        MateOnDifferentReference += other.MateOnDifferentReference;
        MateOnDifferentReferenceMapq5 += other.MateOnDifferentReferenceMapq5;
    }
}
