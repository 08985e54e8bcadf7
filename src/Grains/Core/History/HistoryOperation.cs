namespace Orleans.Patterns.History;

/// <summary>The operations a history records (the <c>"op"</c> field).</summary>
public enum HistoryOpKind
{
    /// <summary><c>"put"</c>: write <see cref="HistoryOperation.Value"/> to the key.</summary>
    Put,

    /// <summary><c>"get"</c>: read the key; <see cref="HistoryOperation.Output"/> is the value, null for an absent key.</summary>
    Get,

    /// <summary><c>"delete"</c>: remove the key (a no-op on an absent key).</summary>
    Delete,

    /// <summary>
    /// <c>"cas"</c>: if the key holds <see cref="HistoryOperation.Expected"/> (null: the key is absent), write
    /// <see cref="HistoryOperation.Value"/>. Its <c>"output"</c> is a JSON boolean, <see cref="HistoryOperation.Swapped"/>:
    /// true if it swapped, false if the comparison failed. A failed comparison is still <c>"ok": true</c>: the
    /// operation took effect as a read that saw another value; <c>"ok": false</c> is kept for "never executed".
    /// </summary>
    Cas,

    /// <summary>
    /// <c>"txn"</c>: the sub-operations in <see cref="HistoryOperation.Ops"/> applied atomically, in order, each with
    /// its own outcome (a failed cas inside a txn does not abort the others).
    /// </summary>
    Txn,
}

/// <summary>
/// One operation of a recorded history, as one line of the JSON lines format in docs/ARCHITECTURE.md
/// ("Operation histories"). Times are nanoseconds on one monotonic clock for the whole run.
/// </summary>
/// <remarks>
/// <para><see cref="Ok"/>: true succeeded; false definitely did not take effect (the checker drops it); null unknown
/// (timed out, connection broke): it may or may not have taken effect, and <see cref="ReturnNs"/> is then null.</para>
/// <para>Outputs are meaningful only when <see cref="Ok"/> is true: <see cref="Output"/> for get (null = absent key),
/// <see cref="Swapped"/> for cas (null = the client could not tell), and the sub-operations' outputs for txn.</para>
/// <para>Equality compares <see cref="Ops"/> by reference (record semantics); compare JSON lines to compare txns.</para>
/// </remarks>
public sealed record HistoryOperation
{
    /// <summary>The client (one sequential process) that issued the operation.</summary>
    public required int Client { get; init; }

    public required HistoryOpKind Op { get; init; }

    /// <summary>The key; null only for txn, whose keys are in <see cref="Ops"/>.</summary>
    public string? Key { get; init; }

    /// <summary>The value written by put and cas.</summary>
    public string? Value { get; init; }

    /// <summary>The value cas compares with; null means "the key is absent" (create-if-absent).</summary>
    public string? Expected { get; init; }

    /// <summary>What a successful get read; null for an absent key.</summary>
    public string? Output { get; init; }

    /// <summary>A successful cas's <c>"output"</c>: whether it swapped.</summary>
    public bool? Swapped { get; init; }

    /// <summary>A txn's sub-operations, with their outputs once the txn succeeded.</summary>
    public IReadOnlyList<HistoryTxnOp>? Ops { get; init; }

    public required long CallNs { get; init; }

    /// <summary>When the response arrived; null when <see cref="Ok"/> is null.</summary>
    public long? ReturnNs { get; init; }

    public bool? Ok { get; init; }

    /// <summary>The operation as its JSON line, which is also the most precise way to print it.</summary>
    public override string ToString() => HistoryJson.FormatLine(this);
}

/// <summary>One sub-operation of a txn: put, get, delete or cas, with the same fields and outputs as at the top level.</summary>
public sealed record HistoryTxnOp
{
    public required HistoryOpKind Op { get; init; }

    public required string Key { get; init; }

    public string? Value { get; init; }

    public string? Expected { get; init; }

    public string? Output { get; init; }

    public bool? Swapped { get; init; }
}
