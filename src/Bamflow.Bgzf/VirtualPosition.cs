namespace Bamflow.Bgzf;

/// <summary>
/// A BGZF virtual file offset (SAMv1 §4.1.1): the compressed offset of a block in the file, shifted left by
/// 16, OR the offset of a byte inside that block's inflated data.
/// </summary>
public readonly record struct VirtualPosition : IComparable<VirtualPosition>
{
    private const int BlockOffsetBits = 16;
    private const long MaxCompressedOffset = (1L << 48) - 1;

    /// <summary>Creates a position from its packed 64-bit value.</summary>
    public VirtualPosition(ulong value) => Value = value;

    /// <summary>Creates a position from a block's compressed offset and an offset inside its inflated data.</summary>
    public VirtualPosition(long compressedOffset, int blockOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(compressedOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(compressedOffset, MaxCompressedOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(blockOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockOffset, ushort.MaxValue);
        Value = ((ulong)compressedOffset << BlockOffsetBits) | (uint)blockOffset;
    }

    /// <summary>The packed value, as stored in BAI/CSI indexes.</summary>
    public ulong Value { get; }

    /// <summary>Offset in the file of the BGZF block.</summary>
    public long CompressedOffset => (long)(Value >> BlockOffsetBits);

    /// <summary>Offset inside the block's inflated data.</summary>
    public int BlockOffset => (int)(Value & 0xFFFF);

    /// <inheritdoc />
    public int CompareTo(VirtualPosition other) => Value.CompareTo(other.Value);

    /// <summary>Orders positions by file order.</summary>
    public static bool operator <(VirtualPosition left, VirtualPosition right) => left.Value < right.Value;

    /// <summary>Orders positions by file order.</summary>
    public static bool operator >(VirtualPosition left, VirtualPosition right) => left.Value > right.Value;

    /// <summary>Orders positions by file order.</summary>
    public static bool operator <=(VirtualPosition left, VirtualPosition right) => left.Value <= right.Value;

    /// <summary>Orders positions by file order.</summary>
    public static bool operator >=(VirtualPosition left, VirtualPosition right) => left.Value >= right.Value;

    /// <summary>"compressedOffset:blockOffset", as htslib prints virtual offsets.</summary>
    public override string ToString() => $"{CompressedOffset}:{BlockOffset}";
}
