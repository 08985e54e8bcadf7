namespace Orleans.Patterns.Coordination;

/// <summary>
/// A fair (FIFO) lock over the coordination store, as etcd's <c>concurrency.Mutex</c>: each contender owns
/// <c>prefix/lease-id-in-hex</c>, attached to its <see cref="LeaseSession"/>, and holds the lock once every key under
/// the prefix created before its own is gone. The holder's key's create revision is its fencing token: it grows with
/// every acquisition, so resources can refuse a holder whose lease lapsed (see <see cref="FencingTokenGuard"/>).
/// A lock is not exclusion by itself: a holder paused past its TTL loses it without knowing; fence every write.
/// The key is per lease (as in etcd), so one session takes a given lock once at a time: concurrent callers in one
/// process that need exclusion among themselves use a session each, or a local lock in front.
/// </summary>
public sealed class DistributedLock
{
    private readonly LeaseSession _session;

    /// <param name="session">The lease the lock key is attached to; the lock is lost with it.</param>
    /// <param name="prefix">The lock's name: keys under it form the queue (a trailing '/' is added if missing).</param>
    public DistributedLock(LeaseSession session, string prefix)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        Prefix = KeyQueue.NormalizePrefix(prefix, nameof(prefix));
        Key = Prefix + session.LeaseIdHex;
    }

    /// <summary>The lock's prefix, ending in '/'.</summary>
    public string Prefix { get; }

    /// <summary>This contender's key: the prefix and its lease id in hex.</summary>
    public string Key { get; }

    /// <summary>
    /// Joins the queue and waits for the lock. Cancelling gives up the place in line (the key is deleted).
    /// </summary>
    /// <exception cref="LeaseLostException">The session's lease was gone before the lock was acquired; it was not acquired.</exception>
    public async Task<LockHandle> LockAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _session.Lost);
        try
        {
            // The queue leaves the line itself when the wait is cancelled, and refuses a key whose lease ended in line.
            var own = await LeaseQueue.AcquireAsync(_session.Client, Prefix, _session.LeaseId, [], linked.Token);
            return new LockHandle(_session, Key, own.CreateRevision);
        }
        catch (OperationCanceledException) when (_session.IsLost && !cancellationToken.IsCancellationRequested)
        {
            throw new LeaseLostException(
                _session.LeaseId,
                $"lease {_session.LeaseIdHex} was lost while waiting for lock '{Prefix}' (key {Key}): the lock was not acquired");
        }
    }

    /// <summary>Takes the lock only if nobody holds it or waits for it; null (and no place in line) otherwise.</summary>
    public async Task<LockHandle?> TryLockAsync(CancellationToken cancellationToken = default)
    {
        var (createRevision, head, _) = await KeyQueue.EnqueueAsync(_session.Client, Prefix, Key, [], _session.LeaseId, cancellationToken);
        if (head is null || head.CreateRevision == createRevision)
        {
            return new LockHandle(_session, Key, createRevision);
        }

        await KeyQueue.DeleteIfOwnAsync(_session.Client, Key, createRevision, cancellationToken);
        return null;
    }
}

/// <summary>A held lock: its fencing token, and <see cref="UnlockAsync"/> (or disposal) to release it.</summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly LeaseSession _session;
    private int _released;

    internal LockHandle(LeaseSession session, string key, long fencingToken)
    {
        _session = session;
        Key = key;
        FencingToken = fencingToken;
    }

    /// <summary>The holder's key.</summary>
    public string Key { get; }

    /// <summary>The create revision of the holder's key: larger for every later holder of the same lock.</summary>
    public long FencingToken { get; }

    /// <summary>Fires when the session's lease is known lost: the lock may already belong to someone else.</summary>
    public CancellationToken Lost => _session.Lost;

    /// <summary>Deletes the holder's key (only its own generation), handing the lock to the next in line. Idempotent.</summary>
    public async Task UnlockAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            await KeyQueue.DeleteIfOwnAsync(_session.Client, Key, FencingToken, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync() => await UnlockAsync();
}
