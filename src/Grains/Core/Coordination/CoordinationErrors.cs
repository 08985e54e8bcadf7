namespace Orleans.Patterns.Coordination;

/// <summary>Why the store refused a request; the messages start with etcd's own error strings.</summary>
public enum CoordinationErrorCode : byte
{
    Compacted = 1,
    FutureRevision = 2,
    EmptyKey = 3,
    KeyNotFound = 4,
    ValueProvided = 5,
    LeaseProvided = 6,
    DuplicateKey = 7,
    TooManyOps = 8,
    RequestTooLarge = 9,
    KeyTooLarge = 10,
    ValueTooLarge = 11,
    LeaseNotFound = 12,
    LeaseExists = 13,
    LeaseTtlTooLarge = 14,

    /// <summary>A client session command older than the last one applied for that client.</summary>
    StaleSequence = 15,

    /// <summary>
    /// A client session the store no longer remembers (evicted as the least recently used, see
    /// <see cref="CoordinationLimits.MaxSessions"/>) sent a command after its first: whether an earlier try of it
    /// applied cannot be told, so it is not applied; the session goes on from here.
    /// </summary>
    SessionExpired = 16,
}

/// <summary>
/// A refusal as data, so a replicated command's outcome can be remembered and replayed. <see cref="Revision"/> is the
/// compacted revision for <see cref="CoordinationErrorCode.Compacted"/>, the current one for
/// <see cref="CoordinationErrorCode.FutureRevision"/>, otherwise 0.
/// </summary>
public sealed record CoordinationError(CoordinationErrorCode Code, string Message, long Revision);

/// <summary>Thrown by <see cref="MvccStore"/> when it refuses a request; the store is unchanged.</summary>
public sealed class CoordinationException(CoordinationError error) : Exception(error.Message)
{
    public CoordinationError Error { get; } = error;

    public CoordinationErrorCode Code => Error.Code;

    internal static CoordinationException Of(CoordinationErrorCode code, string message, long revision = 0) => new(new CoordinationError(code, message, revision));

    internal static CoordinationException Compacted(long compactRevision) =>
        Of(CoordinationErrorCode.Compacted, $"mvcc: required revision has been compacted (compacted revision {compactRevision})", compactRevision);

    internal static CoordinationException Future(long currentRevision) =>
        Of(CoordinationErrorCode.FutureRevision, $"mvcc: required revision is a future revision (current revision {currentRevision})", currentRevision);

    internal static CoordinationException Limit(CoordinationErrorCode code, string what, string limitName, long value, long limit) =>
        Of(code, $"{what} ({limitName} is {limit}, got {value})");
}

/// <summary>
/// Request limits. Every replica must use the same values: a refusal is part of the replicated outcome. etcd limits
/// only the request size (<c>--max-request-bytes</c>, 1.5 MiB) and the ops per transaction (<c>--max-txn-ops</c>, 128),
/// so keys and values default to the request size.
/// </summary>
public sealed record CoordinationLimits
{
    public static CoordinationLimits Default { get; } = new();

    public int MaxKeyBytes { get; init; } = 1_572_864;

    public int MaxValueBytes { get; init; } = 1_572_864;

    /// <summary>Compares, success ops and failure ops are each limited, at every nesting level (etcd's rule).</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary>The largest encoded command the state machine applies.</summary>
    public int MaxRequestBytes { get; init; } = 1_572_864;

    /// <summary>
    /// Shorter TTLs are raised to this: a lease must outlive an election. etcd derives it from its election timeout
    /// (3/2 × election ticks × heartbeat, 2 s with its defaults).
    /// </summary>
    public long MinLeaseTtlSeconds { get; init; } = 2;

    /// <summary>
    /// Client sessions remembered for exactly-once retries (Raft thesis §6.3); past it the session whose last command
    /// is oldest is forgotten, deterministically on every replica.
    /// </summary>
    public int MaxSessions { get; init; } = 10_000;

    /// <summary>etcd's <c>MaxLeaseTTL</c>.</summary>
    public long MaxLeaseTtlSeconds { get; init; } = 9_000_000_000;
}
