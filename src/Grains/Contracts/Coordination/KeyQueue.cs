using System.Text;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// The queue under a prefix that locks and elections share (etcd's <c>concurrency</c> recipes): each contender owns
/// <c>prefix + lease id</c>, created in one transaction, and its place in line is that key's create revision. The
/// head of the queue is the key with the smallest create revision; a contender waits only for the keys created
/// before its own, each until it is deleted, so the line is FIFO and nobody is woken for nothing.
/// </summary>
internal static class KeyQueue
{
    /// <summary>How often an idle watch reports progress; only bounds how stale a watch may get, not correctness.</summary>
    private static readonly TimeSpan WatchProgress = TimeSpan.FromSeconds(5);

    /// <summary>A prefix ending in '/', so "/locks/a" never queues behind "/locks/ab/…".</summary>
    public static string NormalizePrefix(string prefix, string parameterName)
    {
        if (string.IsNullOrWhiteSpace(prefix))
        {
            throw new ArgumentException("The prefix must not be empty.", parameterName);
        }

        return prefix.EndsWith('/') ? prefix : prefix + "/";
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>
    /// Creates the contender's key with its lease if absent, else reads it (a session that asks twice keeps its place).
    /// Returns the key's create revision and the head of the queue as seen at the same revision.
    /// </summary>
    public static async Task<(long CreateRevision, KeyValue? Head, KeyValue Own)> EnqueueAsync(
        CoordinationClient client, string prefix, string key, byte[] value, long leaseId, CancellationToken cancellationToken)
    {
        var keyBytes = Bytes(key);
        var head = HeadRequest(prefix);
        var response = await client.TxnAsync(
            new TxnRequest(
                [new Compare(keyBytes, CompareTarget.Create, CompareResult.Equal) { CreateRevision = 0 }],
                [new PutRequest(keyBytes, value) { Lease = leaseId }, head],
                [new RangeRequest(keyBytes), head]),
            cancellationToken);
        var first = response.Responses[0];
        var own = response.Succeeded
            ? new KeyValue(keyBytes, response.Revision, response.Revision, 1, value, leaseId)
            : first.ResponseRange!.Kvs.Single();
        return (own.CreateRevision, response.Responses[1].ResponseRange!.Kvs.FirstOrDefault(), own);
    }

    /// <summary>The oldest key under the prefix, or null when the queue is empty.</summary>
    public static async Task<(KeyValue? Head, long Revision)> HeadAsync(CoordinationClient client, string prefix, CancellationToken cancellationToken)
    {
        var response = await client.RangeAsync(HeadRequest(prefix), cancellationToken);
        return (response.Kvs.FirstOrDefault(), response.Revision);
    }

    /// <summary>
    /// Waits until no key under the prefix has a create revision below <paramref name="createRevision"/>: finds the
    /// newest older key, watches it until it is deleted, and repeats (etcd's <c>waitDeletes</c>).
    /// </summary>
    public static async Task WaitForOlderKeysAsync(CoordinationClient client, string prefix, long createRevision, CancellationToken cancellationToken)
    {
        var prefixBytes = Bytes(prefix);
        while (true)
        {
            var older = await client.RangeAsync(
                new RangeRequest(prefixBytes)
                {
                    RangeEnd = ByteKeys.PrefixEnd(prefixBytes),
                    MaxCreateRevision = createRevision - 1,
                    SortTarget = SortTarget.Create,
                    SortOrder = SortOrder.Descend,
                    Limit = 1,
                },
                cancellationToken);
            if (older.Kvs.Count == 0)
            {
                return;
            }

            await WaitForDeleteAsync(client, older.Kvs[0].Key, older.Revision + 1, cancellationToken);
        }
    }

    /// <summary>Returns once the key is deleted at or after <paramref name="fromRevision"/>.</summary>
    public static async Task WaitForDeleteAsync(CoordinationClient client, byte[] key, long fromRevision, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var response in client.WatchAsync(new WatchRequest(key) { StartRevision = fromRevision, NoPut = true }, WatchProgress, cancellationToken))
            {
                if (response.Events.Any(e => e.Type == EventType.Delete))
                {
                    return;
                }
            }
        }
        catch (CoordinationException e) when (e.Code == CoordinationErrorCode.Compacted)
        {
            // The history we would watch from is gone: the caller's next range read sees the key's current state.
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Returns at the first change under <paramref name="prefix"/> at or after <paramref name="fromRevision"/>.</summary>
    public static async Task WaitForChangeAsync(CoordinationClient client, byte[] prefix, long fromRevision, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var response in client.WatchAsync(
                new WatchRequest(prefix) { RangeEnd = ByteKeys.PrefixEnd(prefix), StartRevision = fromRevision }, WatchProgress, cancellationToken))
            {
                if (response.Events.Count > 0)
                {
                    return;
                }
            }
        }
        catch (CoordinationException e) when (e.Code == CoordinationErrorCode.Compacted)
        {
            // Changes were compacted away: they happened, so the caller re-reads the current state.
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>The contender's key at the current revision, or null when it is gone (its lease expired or was revoked).</summary>
    public static async Task<KeyValue?> ReadAsync(CoordinationClient client, string key, CancellationToken cancellationToken) =>
        (await client.RangeAsync(new RangeRequest(Bytes(key)), cancellationToken)).Kvs.FirstOrDefault();

    /// <summary>Deletes the key only while it is still the same generation (created at <paramref name="createRevision"/>).</summary>
    public static async Task<bool> DeleteIfOwnAsync(CoordinationClient client, string key, long createRevision, CancellationToken cancellationToken)
    {
        var keyBytes = Bytes(key);
        var response = await client.TxnAsync(
            new TxnRequest(
                [new Compare(keyBytes, CompareTarget.Create, CompareResult.Equal) { CreateRevision = createRevision }],
                [new DeleteRangeRequest(keyBytes)],
                []),
            cancellationToken);
        return response.Succeeded;
    }

    private static RangeRequest HeadRequest(string prefix)
    {
        var prefixBytes = Bytes(prefix);
        return new RangeRequest(prefixBytes)
        {
            RangeEnd = ByteKeys.PrefixEnd(prefixBytes),
            SortTarget = SortTarget.Create,
            SortOrder = SortOrder.Ascend,
            Limit = 1,
        };
    }
}
