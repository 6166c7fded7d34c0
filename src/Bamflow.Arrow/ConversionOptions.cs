namespace Bamflow.Arrow;

/// <summary>How tags become columns.</summary>
public enum TagMode
{
    /// <summary>Tags seen in the first <see cref="ConversionOptions.TagScanRecords"/> records get columns; all others go to tags_other.</summary>
    Discover,
    /// <summary>Only <see cref="ConversionOptions.Tags"/> get columns; other tags are dropped.</summary>
    Explicit,
    /// <summary>No tag columns at all (neither tags nor tags_other).</summary>
    None,
}

/// <summary>What a conversion produces. Immutable once handed over.</summary>
public sealed record ConversionOptions
{
    /// <summary>The default number of records per batch.</summary>
    public const int DefaultBatchSize = 100_000;

    /// <summary>The default budget of record bytes per batch (keeps every string column far below 2 GiB).</summary>
    public const int DefaultMaxBatchBytes = 8 << 20;

    /// <summary>The default number of records scanned for tag discovery.</summary>
    public const int DefaultTagScanRecords = 10_000;

    /// <summary>Whether the seq column is written.</summary>
    public bool IncludeSequence { get; init; } = true;

    /// <summary>Whether the qual column is written.</summary>
    public bool IncludeQuality { get; init; } = true;

    /// <summary>How tags become columns.</summary>
    public TagMode TagMode { get; init; } = TagMode.Discover;

    /// <summary>The tags given explicitly (with <see cref="TagMode.Explicit"/>).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>How many leading records tag discovery (and typing of explicit tags) looks at.</summary>
    public int TagScanRecords { get; init; } = DefaultTagScanRecords;

    /// <summary>A batch ends after this many records...</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>...or once its records' BAM bytes reach this budget, whichever comes first.</summary>
    public int MaxBatchBytes { get; init; } = DefaultMaxBatchBytes;

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (BatchSize < 1)
        {
            throw new ArgumentException($"batch size must be at least 1 (got {BatchSize})", nameof(BatchSize));
        }

        if (MaxBatchBytes < 1)
        {
            throw new ArgumentException($"batch byte budget must be positive (got {MaxBatchBytes})", nameof(MaxBatchBytes));
        }

        if (TagScanRecords < 0)
        {
            throw new ArgumentException($"tag scan must not be negative (got {TagScanRecords})", nameof(TagScanRecords));
        }

        foreach (string tag in Tags)
        {
            if (!TagColumn.IsValidTagName(tag))
            {
                throw new ArgumentException($"'{tag}' is not a SAM tag name (two characters: a letter, then a letter or digit)", nameof(Tags));
            }
        }
    }
}
