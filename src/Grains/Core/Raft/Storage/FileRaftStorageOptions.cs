namespace Orleans.Patterns.Raft.Storage;

/// <summary>Options for <see cref="FileRaftStorage"/>.</summary>
public sealed class FileRaftStorageOptions
{
    /// <summary>Default soft size limit of one segment file.</summary>
    public const long DefaultSegmentBytes = 64L * 1024 * 1024;

    /// <summary>
    /// A new segment is started once the active one reaches this size (a write group is never split, so a segment
    /// may exceed it by one group).
    /// </summary>
    public long SegmentBytes { get; init; } = DefaultSegmentBytes;

    /// <summary>Test hook: runs on the writer thread after a group is written and before its fsync.</summary>
    internal Action? BeforeFsync { get; init; }
}
