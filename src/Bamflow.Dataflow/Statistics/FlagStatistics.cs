using Bamflow.Bam;

namespace Bamflow.Dataflow;

/// <summary>
/// Every count <c>samtools flagstat</c> prints, QC-passed and QC-failed (FLAG 0x200) separately, by samtools 1.16's
/// rules; <see cref="ToText"/>, <see cref="ToJson()"/> and <see cref="ToTsv"/> print them byte for byte as
/// <c>samtools flagstat</c> does by default, with <c>-O json</c> and with <c>-O tsv</c>.
/// </summary>
public sealed partial class FlagStatistics : RecordStatistics<FlagStatistics>
{
    // SAMv1 §1.4 FLAG bits.
    private const int Paired = 0x1;
    private const int ProperPair = 0x2;
    private const int Unmapped = 0x4;
    private const int MateUnmapped = 0x8;
    private const int Read1 = 0x40;
    private const int Read2 = 0x80;
    private const int Secondary = 0x100;
    private const int QcFail = 0x200;
    private const int Duplicate = 0x400;
    private const int Supplementary = 0x800;

    /// <summary>samtools counts a mate on another reference "(mapQ>=5)" from this MAPQ up.</summary>
    public const int HighMappingQuality = 5;

    /// <summary>Counts of records without FLAG 0x200 (the first number of each samtools line).</summary>
    public FlagCounts QcPassed { get; } = new();

    /// <summary>Counts of records with FLAG 0x200 (the second number).</summary>
    public FlagCounts QcFailed { get; } = new();

    /// <inheritdoc />
    public override void Observe(BamRecord record)
    {
        int flag = record.Flag;
        FlagCounts c = (flag & QcFail) != 0 ? QcFailed : QcPassed;
        c.Total++;
        if ((flag & Secondary) != 0)
        {
            c.Secondary++;
        }
        else if ((flag & Supplementary) != 0)
        {
            c.Supplementary++;
        }
        else
        {
            c.Primary++;
            if ((flag & Paired) != 0)
            {
                c.Paired++;
                if ((flag & (ProperPair | Unmapped)) == ProperPair)
                {
                    c.ProperlyPaired++;
                }

                if ((flag & Read1) != 0)
                {
                    c.Read1++;
                }

                if ((flag & Read2) != 0)
                {
                    c.Read2++;
                }

                if ((flag & (MateUnmapped | Unmapped)) == MateUnmapped)
                {
                    c.Singletons++;
                }

                if ((flag & (MateUnmapped | Unmapped)) == 0)
                {
                    c.BothMapped++;
                    if (record.MateReferenceId != record.ReferenceId)
                    {
                        c.MateOnDifferentReference++;
                        if (record.MappingQuality >= HighMappingQuality)
                        {
                            c.MateOnDifferentReferenceMapq5++;
                        }
                    }
                }
            }

            if ((flag & Unmapped) == 0)
            {
                c.PrimaryMapped++;
            }

            if ((flag & Duplicate) != 0)
            {
                c.PrimaryDuplicates++;
            }
        }

        if ((flag & Unmapped) == 0)
        {
            c.Mapped++;
        }

        if ((flag & Duplicate) != 0)
        {
            c.Duplicates++;
        }
    }

    /// <inheritdoc />
    public override void Add(FlagStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        QcPassed.Add(other.QcPassed);
        QcFailed.Add(other.QcFailed);
    }
}
