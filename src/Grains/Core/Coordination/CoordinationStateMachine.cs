using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// The coordination store replicated by Raft: applies committed entries in index order, answers each client's retried
/// command once (remembering its latest outcome, refusals included), and snapshots to and from bytes. Deterministic:
/// every replica that applies the same entries with the same <see cref="CoordinationLimits"/> holds the same state.
/// Reads (range, watch, lease time-to-live) go to <see cref="Store"/> directly.
/// </summary>
public sealed class CoordinationStateMachine
{
    private const byte SnapshotVersion = 1;

    private readonly Dictionary<string, (long Sequence, CoordinationResult Result)> _sessions = new(StringComparer.Ordinal);

    public CoordinationStateMachine(CoordinationLimits? limits = null)
        : this(new MvccStore(limits))
    {
    }

    private CoordinationStateMachine(MvccStore store) => Store = store;

    public MvccStore Store { get; }

    /// <summary>An empty store whose history starts after log index <paramref name="appliedIndex"/> (a log that predates it).</summary>
    public static CoordinationStateMachine StartingAfter(long appliedIndex, CoordinationLimits? limits = null) =>
        new(new MvccStore(limits)) { AppliedIndex = appliedIndex };

    /// <summary>Index of the last entry applied (or covered by the snapshot restored).</summary>
    public long AppliedIndex { get; private set; }

    /// <summary>Applies the next committed entry; returns the command's outcome, or null for entries that carry no command.</summary>
    public CoordinationResult? Apply(LogEntry entry)
    {
        if (entry.Index != AppliedIndex + 1)
        {
            throw new InvalidOperationException($"Entries must be applied in order: applied {AppliedIndex}, got {entry.Index}.");
        }

        AppliedIndex = entry.Index;
        if (entry.Kind != EntryKind.Command)
        {
            return null;
        }

        var command = CoordinationCommand.Decode(entry.Data.Span);
        var session = command.ClientId.Length > 0;
        if (session && _sessions.TryGetValue(command.ClientId, out var last) && command.Sequence <= last.Sequence)
        {
            // A duplicate of a command already applied: answer as the first time, change nothing.
            return command.Sequence == last.Sequence ? last.Result : new CoordinationResult(entry.Index, null, new CoordinationError(
                CoordinationErrorCode.StaleSequence, $"command {command.Sequence} of client '{command.ClientId}' is older than its last applied one ({last.Sequence})", 0));
        }

        var result = session && command.Sequence != 1 && !_sessions.ContainsKey(command.ClientId)
            ? new CoordinationResult(entry.Index, null, new CoordinationError(
                CoordinationErrorCode.SessionExpired,
                $"command {command.Sequence} of client '{command.ClientId}' arrived after the store forgot that session; it was not applied (an earlier try may have been)",
                0))
            : Execute(command.Request, entry.Data.Length, entry.Index);
        if (session)
        {
            _sessions[command.ClientId] = (command.Sequence, result);
            if (_sessions.Count > Store.Limits.MaxSessions)
            {
                ForgetOldestSession();
            }
        }

        return result;
    }

    /// <summary>Number of client sessions remembered.</summary>
    public int SessionCount => _sessions.Count;

    // The session whose last command applied earliest; each result's index is where its command applied, so every
    // replica picks the same one.
    private void ForgetOldestSession()
    {
        var oldest = _sessions.MinBy(s => s.Value.Result.Index).Key;
        _sessions.Remove(oldest);
    }

    public byte[] TakeSnapshot()
    {
        using var writer = new CodecWriter();
        writer.Byte(SnapshotVersion);
        writer.Long(AppliedIndex);
        Store.WriteTo(writer);
        writer.Count(_sessions.Count);
        foreach (var (client, (sequence, result)) in _sessions.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            writer.String(client);
            writer.Long(sequence);
            CoordinationWire.WriteResult(writer, result);
        }

        return writer.ToArray();
    }

    /// <summary>Rebuilds a state machine from <see cref="TakeSnapshot"/>'s bytes; a malformed snapshot is a <see cref="FormatException"/>.</summary>
    public static CoordinationStateMachine Restore(ReadOnlySpan<byte> snapshot, CoordinationLimits? limits = null)
    {
        var reader = new CodecReader(snapshot);
        var version = reader.Byte("snapshot version");
        if (version != SnapshotVersion)
        {
            throw new FormatException($"Coordination snapshot format {version} is not supported (expected {SnapshotVersion}).");
        }

        var appliedIndex = reader.Long("applied index");
        var machine = new CoordinationStateMachine(MvccStore.ReadFrom(reader, limits ?? CoordinationLimits.Default)) { AppliedIndex = appliedIndex };
        for (var i = reader.Count("sessions"); i > 0; i--)
        {
            var client = reader.String("client id");
            var sequence = reader.Long("sequence");
            var result = CoordinationWire.ReadResult(reader);
            machine._sessions[client] = (sequence, result);
        }

        reader.End("snapshot");
        return machine;
    }

    private CoordinationResult Execute(ICoordinationWrite request, int size, long index)
    {
        var limits = Store.Limits;
        try
        {
            if (size > limits.MaxRequestBytes)
            {
                throw CoordinationException.Limit(CoordinationErrorCode.RequestTooLarge, "etcdserver: request is too large", "max request bytes", size, limits.MaxRequestBytes);
            }

            ICoordinationResponse response = request switch
            {
                PutRequest put => Store.Put(put),
                DeleteRangeRequest delete => Store.DeleteRange(delete),
                TxnRequest txn => Store.Txn(txn),
                CompactionRequest compaction => Store.Compact(compaction),
                LeaseGrantRequest grant => Store.LeaseGrant(grant),
                LeaseRevokeRequest revoke => Store.LeaseRevoke(revoke),
                LeaseKeepAliveRequest keepAlive => Store.LeaseKeepAlive(keepAlive),
                ExpireLeasesRequest expire => Store.ExpireLeases(expire),
                PromoteLeasesRequest promote => Store.PromoteLeases(promote),
                RefreshLeasesRequest refresh => Store.RefreshLeases(refresh),
                _ => throw new InvalidDataException($"Unknown coordination write {request.GetType().Name} at index {index}."),
            };
            return new CoordinationResult(index, response, null);
        }
        catch (CoordinationException refused)
        {
            return new CoordinationResult(index, null, refused.Error);
        }
    }
}
