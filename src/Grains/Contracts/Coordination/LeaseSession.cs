using System.Globalization;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// A lease kept alive in the background, as etcd's <c>concurrency.Session</c>: the recipes (locks, elections, the
/// service registry) attach their keys to it, so the keys vanish when the owner stops renewing. Renews every TTL/3;
/// <see cref="Lost"/> fires when a renewal says the lease is gone (TTL 0) or when renewals keep failing until a full
/// TTL has passed since the last one that succeeded (the store may have expired it by then). Disposing revokes.
/// </summary>
public sealed class LeaseSession : IAsyncDisposable
{
    private static readonly TimeSpan RevokeTimeout = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _whenLost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _keepAlive;
    private int _disposed;

    private LeaseSession(CoordinationClient client, long leaseId, TimeSpan ttl, TimeProvider time, long grantedAt)
    {
        Client = client;
        LeaseId = leaseId;
        Ttl = ttl;
        _time = time;
        _keepAlive = KeepAliveLoopAsync(grantedAt);
    }

    /// <summary>The client the session renews through; the recipes use it for their own calls.</summary>
    public CoordinationClient Client { get; }

    /// <summary>The lease's id, as the store granted it.</summary>
    public long LeaseId { get; }

    /// <summary>The lease's id as etcd tools print it (lower-case hex), which the lock and election keys end with.</summary>
    public string LeaseIdHex => LeaseId.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>The granted TTL (the store raises a shorter one to its minimum).</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Cancelled once the lease is known or presumed gone; never before.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Completes with the reason when <see cref="Lost"/> fires; never completes for a session that ends by disposal.</summary>
    public Task<string> WhenLost => _whenLost.Task;

    /// <summary>Whether <see cref="Lost"/> has fired.</summary>
    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Grants a lease of <paramref name="ttl"/> (whole seconds, rounded up) and starts renewing it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is not positive.</exception>
    public static async Task<LeaseSession> StartAsync(
        CoordinationClient client, TimeSpan ttl, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A lease session's TTL must be positive.");
        }

        time ??= TimeProvider.System;
        var sentAt = time.GetTimestamp();
        var granted = await client.LeaseGrantAsync((long)Math.Ceiling(ttl.TotalSeconds), cancellationToken: cancellationToken);
        return new LeaseSession(client, granted.ID, TimeSpan.FromSeconds(granted.TTL), time, sentAt);
    }

    /// <summary>
    /// Stops renewing without revoking, as a process stalled by a long GC pause or a frozen VM would: the lease then
    /// expires on the store's clock while this session still believes in it until its own deadline passes. Used to
    /// drive the "paused holder" scenarios that fencing tokens exist for.
    /// </summary>
    internal void PauseKeepAlives() => _stop.Cancel();

    /// <summary>Stops renewing and revokes the lease, deleting every key attached to it. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        await _keepAlive;
        if (!_lost.IsCancellationRequested)
        {
            using var timeout = new CancellationTokenSource(RevokeTimeout, _time);
            try
            {
                await Client.LeaseRevokeAsync(LeaseId, timeout.Token);
            }
            catch (Exception e) when (e is CoordinationException { Code: CoordinationErrorCode.LeaseNotFound } or OperationCanceledException or TimeoutException or OrleansException)
            {
                // Already gone, or the store is unreachable: the lease then expires by itself within its TTL.
            }
        }

        _stop.Dispose();
    }

    private async Task KeepAliveLoopAsync(long grantedAt)
    {
        var interval = Ttl / 3;
        // The deadline counts from when the last successful renewal was sent: the store renewed no earlier, so the
        // session gives up no later than the store would expire the lease (up to the two clocks' drift).
        var lastRenewed = grantedAt;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // Renew every TTL/3; after failures, wake at the deadline at the latest to declare the loss on time.
                var wait = Min(interval, Ttl - _time.GetElapsedTime(lastRenewed));
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, _stop.Token);
                }

                var sentAt = _time.GetTimestamp();
                var left = Ttl - _time.GetElapsedTime(lastRenewed);
                if (left <= TimeSpan.Zero)
                {
                    MarkLost($"lease {LeaseIdHex}: no renewal succeeded for a full TTL ({Ttl.TotalSeconds:0} s)");
                    return;
                }

                try
                {
                    // A renewal that outlives the deadline is worthless: give up on it then and count it as a failure.
                    using var deadline = new CancellationTokenSource(left, _time);
                    using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, deadline.Token);
                    var answer = await Client.LeaseKeepAliveAsync(LeaseId, bounded.Token);
                    if (answer.TTL <= 0)
                    {
                        MarkLost($"lease {LeaseIdHex} expired or was revoked (keep-alive answered TTL 0)");
                        return;
                    }

                    lastRenewed = sentAt;
                }
                catch (Exception e) when (e is TimeoutException or OrleansException or OperationCanceledException && !_stop.IsCancellationRequested)
                {
                    // Leader change or a slow replica: retry at the next tick; the deadline check above decides when to give up.
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void MarkLost(string reason)
    {
        if (_whenLost.TrySetResult(reason))
        {
            _lost.Cancel();
        }
    }
}
