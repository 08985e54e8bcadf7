namespace Orleans.Patterns.History;

/// <summary>A pending operation of a <see cref="HistoryRecorder"/>; pass it back to complete the operation.</summary>
public readonly record struct HistoryHandle
{
    internal HistoryHandle(int index) => Index = index;

    internal int Index { get; }
}

/// <summary>
/// Records an operation history as clients run: <see cref="Invoke"/> before sending a request, then
/// <see cref="Complete"/> or <see cref="Unknown"/> when the response (or the timeout) comes back. Thread-safe.
/// </summary>
/// <remarks>
/// One monotonic clock for the whole run (<see cref="TimeProvider.GetTimestamp"/>, converted to nanoseconds from the
/// recorder's creation), because a linearizability checker compares the real-time order of operations across clients
/// (Wing &amp; Gong 1993: op A precedes op B iff A returned before B was called). The call time is read before the
/// request leaves and the return time after the response arrived, so each recorded interval contains the real one:
/// a wider interval can only hide a violation, never invent one. Operations are kept in invocation order, which is
/// the order of the file.
/// </remarks>
public sealed class HistoryRecorder
{
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly List<HistoryOperation> _operations = [];
    private readonly List<bool> _finished = [];
    private readonly Lock _lock = new();

    public HistoryRecorder()
        : this(TimeProvider.System)
    {
    }

    public HistoryRecorder(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _origin = time.GetTimestamp();
    }

    /// <summary>Nanoseconds since the recorder was created, on the recorder's clock.</summary>
    public long NowNs
    {
        get
        {
            long delta = _time.GetTimestamp() - _origin;
            // Int128: delta * 1e9 overflows long after ~9 s at a 1 GHz tick frequency.
            return (long)((Int128)delta * 1_000_000_000 / _time.TimestampFrequency);
        }
    }

    /// <summary>How many operations were invoked so far.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _operations.Count;
            }
        }
    }

    /// <summary>Records the call of a put, get, delete or cas.</summary>
    public HistoryHandle Invoke(int client, HistoryOpKind op, string key, string? value = null, string? expected = null)
    {
        if (op == HistoryOpKind.Txn)
        {
            throw new ArgumentException("Use InvokeTxn for transactions.", nameof(op));
        }

        ArgumentNullException.ThrowIfNull(key);
        return Add(new HistoryOperation { Client = client, Op = op, Key = key, Value = value, Expected = expected, CallNs = 0 });
    }

    /// <summary>Records the call of a txn; <paramref name="ops"/> are its sub-operations without outputs.</summary>
    public HistoryHandle InvokeTxn(int client, IReadOnlyList<HistoryTxnOp> ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        return Add(new HistoryOperation { Client = client, Op = HistoryOpKind.Txn, Ops = [.. ops], CallNs = 0 });
    }

    /// <summary>
    /// Records the response: <paramref name="ok"/> true (succeeded, with its outputs) or false (definitely did not take
    /// effect). <paramref name="output"/> is a get's value, <paramref name="swapped"/> a cas's outcome,
    /// <paramref name="txnResults"/> a txn's sub-operations with their outputs.
    /// </summary>
    public void Complete(
        HistoryHandle handle,
        bool ok,
        string? output = null,
        bool? swapped = null,
        IReadOnlyList<HistoryTxnOp>? txnResults = null)
    {
        long now = NowNs;
        lock (_lock)
        {
            HistoryOperation pending = Pending(handle);
            _operations[handle.Index] = pending with
            {
                ReturnNs = now,
                Ok = ok,
                Output = ok && pending.Op == HistoryOpKind.Get ? output : null,
                Swapped = ok && pending.Op == HistoryOpKind.Cas ? swapped : null,
                Ops = ok && pending.Op == HistoryOpKind.Txn && txnResults is not null ? [.. txnResults] : pending.Ops,
            };
            _finished[handle.Index] = true;
        }
    }

    /// <summary>Records that the outcome is unknown (timeout, broken connection): it may or may not have taken effect.</summary>
    public void Unknown(HistoryHandle handle)
    {
        lock (_lock)
        {
            _ = Pending(handle);
            _finished[handle.Index] = true;
        }
    }

    /// <summary>
    /// The history so far, in invocation order. Operations still pending are reported as unknown, which is what they
    /// are to a checker: they may yet take effect.
    /// </summary>
    public IReadOnlyList<HistoryOperation> Snapshot()
    {
        lock (_lock)
        {
            return [.. _operations];
        }
    }

    /// <summary>Writes <see cref="Snapshot"/> as JSON lines.</summary>
    public void WriteTo(TextWriter writer) => HistoryJson.Write(writer, Snapshot());

    private HistoryHandle Add(HistoryOperation operation)
    {
        lock (_lock)
        {
            // The call time is read under the lock so that invocation order (the file's order) and call_ns agree.
            _operations.Add(operation with { CallNs = NowNs });
            _finished.Add(false);
            return new HistoryHandle(_operations.Count - 1);
        }
    }

    private HistoryOperation Pending(HistoryHandle handle)
    {
        if ((uint)handle.Index >= (uint)_operations.Count)
        {
            throw new ArgumentException("The handle does not belong to this recorder.", nameof(handle));
        }

        return _finished[handle.Index]
            ? throw new InvalidOperationException($"Operation {handle.Index} was already completed.")
            : _operations[handle.Index];
    }
}
