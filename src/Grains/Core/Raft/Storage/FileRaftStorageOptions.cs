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
    /// Runs on the thread that wrote it after each write group that ended with an fsync, with how long the group's write
    /// and fsync took (timed on <see cref="Time"/>): the disk's share of a Raft round. Must be quick and must not throw.
    /// </summary>
    public Action<TimeSpan>? Synced { get; init; }

    /// <summary>
    /// Whether a write that finds the writer idle (nothing queued, nothing being written) is written and synced on the
    /// caller's thread, <see cref="FileRaftStorage.PersistAsync"/> returning a completed task; writes that arrive while
    /// one is being written still queue for the writer thread and share its next fsync. Off, every write is handed to
    /// the writer thread and its completion back to the thread pool: two thread wake-ups per write on a lightly loaded
    /// process, each costing more CPU than the write. On, the caller blocks for the fsync. A replica that waits for its
    /// write before it goes on anyway (its Ready loop) loses nothing by blocking; a caller that must go on working
    /// during the fsync keeps this off. Only one caller at a time among the logs sharing <see cref="CallerWrites"/>
    /// writes in its writer's place; the others hand their writes over meanwhile.
    /// </summary>
    public bool WriteOnCallerWhenIdle { get; init; }

    /// <summary>
    /// Bounds the callers blocked in a write of their own (<see cref="WriteOnCallerWhenIdle"/>) to one among the logs
    /// that share it; by default every log of the process shares <see cref="CallerWriteGate.Process"/>.
    /// </summary>
    public CallerWriteGate CallerWrites { get; init; } = CallerWriteGate.Process;

    /// <summary>The clock that times <see cref="Synced"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Test hook: runs on the thread that wrote a group, after the group is written and before its fsync.</summary>
    internal Action? BeforeFsync { get; init; }
}
