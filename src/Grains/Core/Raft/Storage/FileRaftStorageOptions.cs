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

    /// <summary>Default of <see cref="PreallocateBytes"/>.</summary>
    public const long DefaultPreallocateBytes = 4L * 1024 * 1024;

    /// <summary>
    /// How far the active segment's file is extended past its data whenever a write reaches its end; 0 appends without
    /// extending. An fsync that must also record a grown file size costs more: on the development machine's disk a
    /// 300-byte write and its fsync took about 200–280 µs appended, 130–190 µs inside an extended file. The unused end
    /// is cut when the segment is closed, and recovery reads zeros after the last batch as the end of the log.
    /// </summary>
    public long PreallocateBytes { get; init; } = DefaultPreallocateBytes;

    /// <summary>
    /// Runs on the writer thread after each write group that ended with an fsync, with how long the group's write and
    /// fsync took (timed on <see cref="Time"/>): the disk's share of a Raft round. Must be quick and must not throw.
    /// </summary>
    public Action<TimeSpan>? Synced { get; init; }

    /// <summary>The clock that times <see cref="Synced"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Test hook: runs on the writer thread after a group is written and before its fsync.</summary>
    internal Action? BeforeFsync { get; init; }
}
