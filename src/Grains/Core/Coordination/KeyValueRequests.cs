namespace Orleans.Patterns.Coordination;

/// <summary>A request that changes the store, so it travels through the Raft log.</summary>
public interface ICoordinationWrite;

/// <summary>What the store answers; <see cref="Revision"/> is the store's revision after the request (etcd's response header).</summary>
public interface ICoordinationResponse
{
    /// <summary>The store's revision once the request applied.</summary>
    long Revision { get; }
}

/// <summary>How a range result is ordered, as etcd's <c>RangeRequest.SortOrder</c>.</summary>
public enum SortOrder : byte
{
    None = 0,
    Ascend = 1,
    Descend = 2,
}

/// <summary>What a range result is ordered by, as etcd's <c>RangeRequest.SortTarget</c>.</summary>
public enum SortTarget : byte
{
    Key = 0,
    Version = 1,
    Create = 2,
    Mod = 3,
    Value = 4,
}

/// <summary>
/// Reads keys, as etcd's <c>RangeRequest</c>. <see cref="RangeEnd"/> empty: the key alone; <c>"\0"</c>: every key from
/// <see cref="Key"/> on; otherwise [key, range_end). <see cref="Revision"/> 0 reads the current revision.
/// </summary>
public sealed record RangeRequest(byte[] Key)
{
    public byte[] RangeEnd { get; init; } = [];

    /// <summary>At most this many keys (0: no limit); <see cref="RangeResponse.More"/> tells that more matched.</summary>
    public long Limit { get; init; }

    public long Revision { get; init; }

    public SortOrder SortOrder { get; init; }

    public SortTarget SortTarget { get; init; }

    /// <summary>Whether a follower may answer from its own state; the state machine answers the same either way.</summary>
    public bool Serializable { get; init; }

    public bool KeysOnly { get; init; }

    public bool CountOnly { get; init; }

    public long MinModRevision { get; init; }

    public long MaxModRevision { get; init; }

    public long MinCreateRevision { get; init; }

    public long MaxCreateRevision { get; init; }
}

/// <summary>The keys a range read found; <see cref="Count"/> counts every key in the range at that revision, before limit and filters.</summary>
public sealed record RangeResponse(long Revision, IReadOnlyList<KeyValue> Kvs, bool More, long Count) : ICoordinationResponse;

/// <summary>Sets a key, as etcd's <c>PutRequest</c>. <see cref="Lease"/> 0 attaches to no lease.</summary>
public sealed record PutRequest(byte[] Key, byte[] Value) : ICoordinationWrite
{
    public long Lease { get; init; }

    /// <summary>Return the key's value before this put.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Keep the key's current value (the key must exist; <see cref="Value"/> must be empty).</summary>
    public bool IgnoreValue { get; init; }

    /// <summary>Keep the key's current lease (the key must exist; <see cref="Lease"/> must be 0).</summary>
    public bool IgnoreLease { get; init; }
}

/// <summary>The result of a put: the key's previous version when asked for and present.</summary>
public sealed record PutResponse(long Revision, KeyValue? PrevKv) : ICoordinationResponse;

/// <summary>Deletes a key or a range (same range forms as <see cref="RangeRequest"/>), as etcd's <c>DeleteRangeRequest</c>.</summary>
public sealed record DeleteRangeRequest(byte[] Key) : ICoordinationWrite
{
    public byte[] RangeEnd { get; init; } = [];

    public bool PrevKv { get; init; }
}

/// <summary>How many keys a delete removed, and their last versions when asked for.</summary>
public sealed record DeleteRangeResponse(long Revision, long Deleted, IReadOnlyList<KeyValue> PrevKvs) : ICoordinationResponse;

/// <summary>How a compare relates the key's field to the given one, as etcd's <c>Compare.CompareResult</c>.</summary>
public enum CompareResult : byte
{
    Equal = 0,
    Greater = 1,
    Less = 2,
    NotEqual = 3,
}

/// <summary>Which field a compare reads, as etcd's <c>Compare.CompareTarget</c>.</summary>
public enum CompareTarget : byte
{
    Version = 0,
    Create = 1,
    Mod = 2,
    Value = 3,
    Lease = 4,
}

/// <summary>
/// One guard of a transaction, as etcd's <c>Compare</c>: the field named by <see cref="Target"/> (its value in the
/// matching property) against every key in the range. An absent key reads as zeros, except that a value compare on
/// no key is always false (etcd cannot tell an absent value from an empty one).
/// </summary>
public sealed record Compare(byte[] Key, CompareTarget Target, CompareResult Result)
{
    public byte[] RangeEnd { get; init; } = [];

    public long Version { get; init; }

    public long CreateRevision { get; init; }

    public long ModRevision { get; init; }

    public byte[] Value { get; init; } = [];

    public long Lease { get; init; }
}

/// <summary>One operation of a transaction branch, as etcd's <c>RequestOp</c>: exactly one of the four is set.</summary>
public sealed record RequestOp
{
    private RequestOp(RangeRequest? range, PutRequest? put, DeleteRangeRequest? delete, TxnRequest? txn)
    {
        RequestRange = range;
        RequestPut = put;
        RequestDeleteRange = delete;
        RequestTxn = txn;
    }

    public RangeRequest? RequestRange { get; }

    public PutRequest? RequestPut { get; }

    public DeleteRangeRequest? RequestDeleteRange { get; }

    public TxnRequest? RequestTxn { get; }

    public static implicit operator RequestOp(RangeRequest request) => new(request, null, null, null);

    public static implicit operator RequestOp(PutRequest request) => new(null, request, null, null);

    public static implicit operator RequestOp(DeleteRangeRequest request) => new(null, null, request, null);

    public static implicit operator RequestOp(TxnRequest request) => new(null, null, null, request);
}

/// <summary>The answer to one <see cref="RequestOp"/>, as etcd's <c>ResponseOp</c>: exactly one of the four is set.</summary>
public sealed record ResponseOp
{
    private ResponseOp(RangeResponse? range, PutResponse? put, DeleteRangeResponse? delete, TxnResponse? txn)
    {
        ResponseRange = range;
        ResponsePut = put;
        ResponseDeleteRange = delete;
        ResponseTxn = txn;
    }

    public RangeResponse? ResponseRange { get; }

    public PutResponse? ResponsePut { get; }

    public DeleteRangeResponse? ResponseDeleteRange { get; }

    public TxnResponse? ResponseTxn { get; }

    public static implicit operator ResponseOp(RangeResponse response) => new(response, null, null, null);

    public static implicit operator ResponseOp(PutResponse response) => new(null, response, null, null);

    public static implicit operator ResponseOp(DeleteRangeResponse response) => new(null, null, response, null);

    public static implicit operator ResponseOp(TxnResponse response) => new(null, null, null, response);
}

/// <summary>
/// An atomic conditional write, as etcd's <c>TxnRequest</c>: if every compare holds, the success ops apply, otherwise
/// the failure ops, all at one revision. A transaction may not put one key twice, nor put a key it also deletes.
/// </summary>
public sealed record TxnRequest(IReadOnlyList<Compare> Compare, IReadOnlyList<RequestOp> Success, IReadOnlyList<RequestOp> Failure) : ICoordinationWrite;

/// <summary>Which branch ran and the answer to each of its ops, in order.</summary>
public sealed record TxnResponse(long Revision, bool Succeeded, IReadOnlyList<ResponseOp> Responses) : ICoordinationResponse;

/// <summary>Drops the history below <see cref="Revision"/>, as etcd's <c>CompactionRequest</c>.</summary>
public sealed record CompactionRequest(long Revision) : ICoordinationWrite;

/// <summary>The answer to a compaction; the store's revision does not change.</summary>
public sealed record CompactionResponse(long Revision) : ICoordinationResponse;

/// <summary>
/// Asks for the events of a key or range from <see cref="StartRevision"/> on (inclusive, as etcd's
/// <c>WatchCreateRequest</c>; 0: only changes after the current revision).
/// </summary>
public sealed record WatchRequest(byte[] Key)
{
    public byte[] RangeEnd { get; init; } = [];

    public long StartRevision { get; init; }

    public bool PrevKv { get; init; }

    /// <summary>Leave out put events (etcd's <c>NOPUT</c> filter).</summary>
    public bool NoPut { get; init; }

    /// <summary>Leave out delete events (etcd's <c>NODELETE</c> filter).</summary>
    public bool NoDelete { get; init; }
}

/// <summary>
/// The events of a watch, in revision order and, within a revision, in the order the writes happened. With no events
/// it is a progress notification: every change up to <see cref="Revision"/> has been seen.
/// </summary>
public sealed record WatchResponse(long Revision, IReadOnlyList<Event> Events) : ICoordinationResponse;
