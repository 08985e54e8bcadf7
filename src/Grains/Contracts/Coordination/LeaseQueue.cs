using System.Globalization;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// The lock and election queue (see <see cref="DistributedLock"/>) for callers whose lease someone else keeps alive,
/// as etcd's Lock and Election services get a lease id from their client: the contender's key is
/// <c>prefix/lease-id-in-hex</c>, its place in line and fencing token the key's create revision.
/// </summary>
public static class LeaseQueue
{
    /// <summary>The contender key a lease has under a lock or election name (a '/' is added to the name if missing).</summary>
    public static string KeyFor(string name, long leaseId) =>
        KeyQueue.NormalizePrefix(name, nameof(name)) + leaseId.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>
    /// Queues the lease's key (value <paramref name="value"/>, kept if it is already queued) and waits until every key
    /// created before it under the name is gone. Returns the key as it stands then: its create revision is the fencing
    /// token. Cancelling leaves the line.
    /// </summary>
    /// <exception cref="LeaseLostException">The lease ended while the key waited: not acquired.</exception>
    public static async Task<KeyValue> AcquireAsync(CoordinationClient client, string name, long leaseId, byte[] value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var prefix = KeyQueue.NormalizePrefix(name, nameof(name));
        var key = KeyFor(name, leaseId);
        var (createRevision, head, _) = await KeyQueue.EnqueueAsync(client, prefix, key, value, leaseId, cancellationToken);
        try
        {
            if (head is not null && head.CreateRevision != createRevision)
            {
                await KeyQueue.WaitForOlderKeysAsync(client, prefix, createRevision, cancellationToken);
            }

            var own = await KeyQueue.ReadAsync(client, key, cancellationToken);
            return own is not null && own.CreateRevision == createRevision
                ? own
                : throw new LeaseLostException(leaseId, $"lease {leaseId:x} ended while waiting in '{prefix}' (key {key}, queued at revision {createRevision}): not acquired");
        }
        catch (OperationCanceledException)
        {
            try
            {
                await KeyQueue.DeleteIfOwnAsync(client, key, createRevision, CancellationToken.None);
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                // The key still goes with the lease; until then it only delays those behind it.
            }

            throw;
        }
    }

    /// <summary>Replaces the value of a key that is still the generation created at <paramref name="createRevision"/>; false otherwise.</summary>
    public static async Task<bool> ProclaimAsync(CoordinationClient client, byte[] key, long createRevision, long leaseId, byte[] value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var response = await client.TxnAsync(
            new TxnRequest(
                [new Compare(key, CompareTarget.Create, CompareResult.Equal) { CreateRevision = createRevision }],
                [new PutRequest(key, value) { Lease = leaseId }],
                []),
            cancellationToken);
        return response.Succeeded;
    }

    /// <summary>Deletes a key only while it is the generation created at <paramref name="createRevision"/>; false otherwise.</summary>
    public static Task<bool> ReleaseAsync(CoordinationClient client, byte[] key, long createRevision, CancellationToken cancellationToken) =>
        KeyQueue.DeleteIfOwnAsync(client, KeyQueue.Text(key), createRevision, cancellationToken);

    /// <summary>The head of the line under a name (the holder or leader), or null, and the revision it was read at.</summary>
    public static Task<(KeyValue? Head, long Revision)> HeadAsync(CoordinationClient client, string name, CancellationToken cancellationToken) =>
        KeyQueue.HeadAsync(client, KeyQueue.NormalizePrefix(name, nameof(name)), cancellationToken);

    /// <summary>Returns at the first change under the name at or after <paramref name="fromRevision"/>.</summary>
    public static Task WaitForChangeAsync(CoordinationClient client, string name, long fromRevision, CancellationToken cancellationToken) =>
        KeyQueue.WaitForChangeAsync(client, KeyQueue.Bytes(KeyQueue.NormalizePrefix(name, nameof(name))), fromRevision, cancellationToken);
}
