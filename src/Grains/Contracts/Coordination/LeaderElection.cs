using System.Runtime.CompilerServices;

namespace Orleans.Patterns.Coordination;

/// <summary>Where an election lives and how long a leader outlives its last renewal.</summary>
public sealed record LeaderElectionOptions
{
    /// <summary>The election's prefix: candidates queue under it (a trailing '/' is added if missing).</summary>
    public string Prefix { get; init; } = "/election/leader";

    /// <summary>The TTL of a candidate's lease: how long a stalled leader stays leader.</summary>
    public TimeSpan SessionTtl { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>The leader as the store sees it: its key, value, fencing token (create revision) and lease.</summary>
public sealed record LeaderInfo(string Key, string Value, long FencingToken, long LeaseId, long Revision);

/// <summary>
/// Leader election over the coordination store, as etcd's <c>concurrency.Election</c>: candidates queue under the
/// prefix like lock contenders (<see cref="DistributedLock"/>), the oldest key leads, and its value is the leader's
/// announcement. Leadership lasts while the candidate's lease does.
/// </summary>
public sealed class LeaderElection
{
    private readonly CoordinationClient _client;
    private readonly TimeProvider _time;

    public LeaderElection(CoordinationClient client, LeaderElectionOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (options.SessionTtl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.SessionTtl, "LeaderElectionOptions.SessionTtl must be positive.");
        }

        _client = client;
        _time = time ?? TimeProvider.System;
        Options = options;
        Prefix = KeyQueue.NormalizePrefix(options.Prefix, nameof(options));
    }

    public LeaderElectionOptions Options { get; }

    /// <summary>The election's prefix, ending in '/'.</summary>
    public string Prefix { get; }

    /// <summary>
    /// Campaigns with a session of its own (TTL from the options); the handle owns it: disposing resigns and revokes.
    /// </summary>
    public async Task<Leadership> CampaignAsync(string value, CancellationToken cancellationToken = default)
    {
        var session = await LeaseSession.StartAsync(_client, Options.SessionTtl, _time, cancellationToken);
        try
        {
            return await CampaignAsync(session, value, ownsSession: true, cancellationToken);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Campaigns with the caller's session; disposing the handle resigns but leaves the session running.</summary>
    public Task<Leadership> CampaignAsync(LeaseSession session, string value, CancellationToken cancellationToken = default) =>
        CampaignAsync(session, value, ownsSession: false, cancellationToken);

    /// <summary>The current leader, or null when nobody campaigns.</summary>
    public async Task<LeaderInfo?> LeaderAsync(CancellationToken cancellationToken = default)
    {
        var (head, revision) = await KeyQueue.HeadAsync(_client, Prefix, cancellationToken);
        return head is null ? null : Info(head, revision);
    }

    /// <summary>
    /// The leader now (when there is one), then every change of leader or of its value, as it happens. A change that
    /// is superseded before it is read may be skipped; the latest state is never missed. Runs until cancelled.
    /// </summary>
    public async IAsyncEnumerable<LeaderInfo> ObserveAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prefix = KeyQueue.Bytes(Prefix);
        LeaderInfo? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var (head, revision) = await KeyQueue.HeadAsync(_client, Prefix, cancellationToken);
            var now = head is null ? null : Info(head, revision);
            if (now is not null && (last is null || last.Key != now.Key || last.FencingToken != now.FencingToken || last.Value != now.Value))
            {
                yield return now;
            }

            last = now;
            // Any change under the prefix may change the head; re-read it then. Starting right after the read's
            // revision leaves no window in which a change goes unseen.
            await KeyQueue.WaitForChangeAsync(_client, prefix, revision + 1, cancellationToken);
        }
    }

    private async Task<Leadership> CampaignAsync(LeaseSession session, string value, bool ownsSession, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(value);
        var key = Prefix + session.LeaseIdHex;
        var bytes = KeyQueue.Bytes(value);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Lost);
        long createRevision = 0;
        try
        {
            var (revision, head, own) = await KeyQueue.EnqueueAsync(_client, Prefix, key, bytes, session.LeaseId, linked.Token);
            createRevision = revision;
            var leadership = new Leadership(this, session, key, createRevision, value, ownsSession);
            if (!own.Value.AsSpan().SequenceEqual(bytes))
            {
                // Campaigning again from the same session keeps the place in line and announces the new value.
                await leadership.ProclaimAsync(value, linked.Token);
            }

            if (head is not null && head.CreateRevision != createRevision)
            {
                await KeyQueue.WaitForOlderKeysAsync(_client, Prefix, createRevision, linked.Token);
            }

            var current = await KeyQueue.ReadAsync(_client, key, linked.Token);
            if (current is null || current.CreateRevision != createRevision)
            {
                throw Lost(session, key, createRevision);
            }

            return leadership;
        }
        catch (OperationCanceledException) when (createRevision != 0)
        {
            await LeaveAsync(key, createRevision);
            if (session.IsLost && !cancellationToken.IsCancellationRequested)
            {
                throw Lost(session, key, createRevision);
            }

            throw;
        }
        catch (LeadershipLostException)
        {
            throw Lost(session, key, createRevision);
        }
    }

    private LeaseLostException Lost(LeaseSession session, string key, long createRevision) => new(
        session.LeaseId,
        $"lease {session.LeaseIdHex} was lost while campaigning in election '{Prefix}' (key {key}, queued at revision {createRevision}): not elected");

    private async Task LeaveAsync(string key, long createRevision)
    {
        try
        {
            await KeyQueue.DeleteIfOwnAsync(_client, key, createRevision, CancellationToken.None);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            // The key still goes with the lease.
        }
    }

    internal CoordinationClient Client => _client;

    private static LeaderInfo Info(KeyValue kv, long revision) =>
        new(KeyQueue.Text(kv.Key), KeyQueue.Text(kv.Value), kv.CreateRevision, kv.Lease, revision);
}

/// <summary>
/// A won election: the fencing token (the leader key's create revision), <see cref="ProclaimAsync"/> to announce a
/// new value and <see cref="ResignAsync"/> to step down. <see cref="Lost"/> fires when the lease is known gone.
/// </summary>
public sealed class Leadership : IAsyncDisposable
{
    private readonly LeaderElection _election;
    private readonly LeaseSession _session;
    private readonly bool _ownsSession;
    private int _resigned;

    internal Leadership(LeaderElection election, LeaseSession session, string key, long fencingToken, string value, bool ownsSession)
    {
        _election = election;
        _session = session;
        _ownsSession = ownsSession;
        Key = key;
        FencingToken = fencingToken;
        Value = value;
    }

    public string Key { get; }

    /// <summary>The create revision of the leader's key: every later leader's is larger.</summary>
    public long FencingToken { get; }

    /// <summary>The value last proclaimed.</summary>
    public string Value { get; private set; }

    public long LeaseId => _session.LeaseId;

    /// <summary>Fires when the session's lease is known lost: another candidate may lead by now.</summary>
    public CancellationToken Lost => _session.Lost;

    /// <summary>Replaces the leader's value, only while this key is still the one this campaign created.</summary>
    /// <exception cref="LeadershipLostException">The key is gone or was recreated: this leadership is over.</exception>
    public async Task ProclaimAsync(string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        var key = KeyQueue.Bytes(Key);
        var response = await _election.Client.TxnAsync(
            new TxnRequest(
                [new Compare(key, CompareTarget.Create, CompareResult.Equal) { CreateRevision = FencingToken }],
                [new PutRequest(key, KeyQueue.Bytes(value)) { Lease = _session.LeaseId }],
                []),
            cancellationToken);
        if (!response.Succeeded)
        {
            throw new LeadershipLostException(Key, $"cannot proclaim in election '{_election.Prefix}': key {Key} (token {FencingToken}) is gone, leadership is over");
        }

        Value = value;
    }

    /// <summary>Steps down: deletes the leader key (only its own generation), so the next candidate takes over. Idempotent.</summary>
    public async Task ResignAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _resigned, 1) == 0)
        {
            await KeyQueue.DeleteIfOwnAsync(_election.Client, Key, FencingToken, cancellationToken);
        }
    }

    /// <summary>Resigns, and revokes the session when the campaign started it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_session.IsLost)
            {
                await ResignAsync();
            }
        }
        finally
        {
            if (_ownsSession)
            {
                await _session.DisposeAsync();
            }
        }
    }

    /// <summary>The session behind this leadership (its lease), e.g. to stop renewing it.</summary>
    internal LeaseSession Session => _session;
}
