namespace Orleans.Patterns.Raft.Storage;

/// <summary>Something recovery repaired or skipped without refusing to start.</summary>
public abstract record RecoveryWarning(string File, string Reason);

/// <summary>
/// The last segment ended in a torn or corrupt record (a write cut by a crash before its fsync completed); the file
/// was cut at <paramref name="Offset"/>, dropping only that never-acknowledged batch.
/// </summary>
public sealed record TruncatedTail(string File, long Offset, string Reason) : RecoveryWarning(File, Reason);

/// <summary>A snapshot file failed its checksum or could not be parsed; an older snapshot was used instead.</summary>
public sealed record SkippedSnapshot(string File, string Reason) : RecoveryWarning(File, Reason);

/// <summary>What <see cref="FileRaftStorage.Recover"/> found and repaired.</summary>
public sealed record RecoveryReport(IReadOnlyList<RecoveryWarning> Warnings, int SegmentCount, long? SnapshotIndex)
{
    public static RecoveryReport None { get; } = new([], 0, null);
}

/// <summary>
/// The log on disk is damaged somewhere other than its unacknowledged tail, or breaks a Raft invariant (an index
/// gap, a term going backwards). The replica must not start: serving from it could violate safety.
/// </summary>
public sealed class RaftStorageCorruptException : Exception
{
    public RaftStorageCorruptException(string file, long offset, string problem)
        : base($"Raft log corrupt in '{file}' at offset {offset}: {problem}")
    {
        File = file;
        Offset = offset;
        Problem = problem;
    }

    public RaftStorageCorruptException()
        : this(string.Empty, 0, "unknown")
    {
    }

    public RaftStorageCorruptException(string message)
        : base(message)
    {
        File = string.Empty;
        Problem = message;
    }

    public RaftStorageCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = string.Empty;
        Problem = message;
    }

    /// <summary>The damaged file.</summary>
    public string File { get; }

    /// <summary>Byte offset of the offending record (or of the damaged file region).</summary>
    public long Offset { get; }

    /// <summary>What is wrong, in words.</summary>
    public string Problem { get; }
}
