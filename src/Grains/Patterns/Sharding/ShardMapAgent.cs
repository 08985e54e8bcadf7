using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Gossip;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft;
using Orleans.Runtime.Placement;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// This silo's copy of the shard map and the two loops that keep it and the users it hosts in line with the cluster:
/// the map loop (read the agreed map; on the proposer, commit a new epoch when membership changed) and the hand-off
/// loop (send users of shards this silo no longer owns to their new owner, a few shards per round). Read by the
/// placement director and the user grains on every call, so the current map is one volatile reference.
/// </summary>
internal sealed partial class ShardMapAgent : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(1);

    private readonly ShardingOptions _options;
    private readonly IShardAllocator _allocator;
    private readonly IClusterMembershipService _membership;
    private readonly ILocalSiloDetails _localSilo;
    private readonly IGrainFactory _grains;
    private readonly LocalShardRegistry _registry;
    private readonly LocalGossipVerdicts? _gossip;
    private readonly TimeProvider _time;
    private readonly ILogger<ShardMapAgent> _logger;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private MapState? _state;
    private RaftSession? _raft;
    private Task _mapLoop = Task.CompletedTask;
    private Task _handOffLoop = Task.CompletedTask;
    private long _handOffsDone;
    private long _usersMoved;
    private int _handOffsPending;
    private int _misplacedUsers;
    private long _handOffRoundEpoch;
    private int _disposed;
    private long _lastHotShardCheck;
    private readonly HotShardPolicy _hotShards;

    public ShardMapAgent(
        IOptions<ShardingOptions> options,
        IClusterMembershipService membership,
        ILocalSiloDetails localSilo,
        IGrainFactory grains,
        LocalShardRegistry registry,
        IServiceProvider services,
        TimeProvider time,
        ILogger<ShardMapAgent> logger)
    {
        _options = options.Value;
        _allocator = _options.CreateAllocator();
        _hotShards = new HotShardPolicy(_options.HotShards);
        _membership = membership;
        _localSilo = localSilo;
        _grains = grains;
        _registry = registry;
        _gossip = services.GetService<LocalGossipVerdicts>();
        _time = time;
        _logger = logger;
        Stopping = _stopping.Token;
    }

    /// <summary>
    /// Cancelled as this silo starts to stop, before its grains are deactivated. Every move this silo starts carries
    /// it. Orleans sends a silo's migrations to one target one batch at a time, each batch waiting for the target to
    /// accept it: a move still queued when the token is cancelled ends as a plain deactivation (the user comes back
    /// from storage at its next call) instead of holding the leaving silo's GrainDeactivation stage, and every call
    /// queued on that user, behind a batch its target is slow to answer. A move already sent waits for the target's
    /// answer whatever the token (Orleans' system response timeout, 30 s by default, bounds it); that wait is what
    /// <see cref="ShardingOptions.MinimumResidence"/> keeps from turning into a deadlock.
    /// </summary>
    public CancellationToken Stopping { get; }

    /// <summary>How long a user stays where it arrived before it may move again (<see cref="ShardingOptions.MinimumResidence"/>).</summary>
    public TimeSpan MinimumResidence => _options.MinimumResidence;

    /// <summary>A map and where it came from.</summary>
    internal sealed record MapState(ShardMap Map, string Encoded, string Source);

    /// <summary>The map this silo routes by, or null before it has one.</summary>
    public ShardMap? Current => Volatile.Read(ref _state)?.Map;

    public MapState? State => Volatile.Read(ref _state);

    public string LocalName => _localSilo.Name;

    /// <summary>
    /// Whether every silo numbers maps alike, so a caller's epoch can be compared with this silo's: true when maps are
    /// committed through Raft. Maps derived from membership carry the membership version a silo saw the change at,
    /// which two silos may see at different versions.
    /// </summary>
    public bool EpochsAgreed => _options.MapSource == ShardMapSource.Raft;

    /// <summary>The window per-shard load is measured over.</summary>
    public TimeSpan LoadWindow => _options.LoadWindow;

    /// <summary>
    /// Shards with users still to hand off under the current map. A map no hand-off round has looked at yet counts as
    /// one pending: the last round's zero was measured against the map before it.
    /// </summary>
    public int HandOffsPending => RoundSawCurrentMap ? Volatile.Read(ref _handOffsPending) : Math.Max(1, Volatile.Read(ref _handOffsPending));

    /// <summary>Active users whose shard another silo owns, as the last hand-off round found them (see <see cref="HandOffsPending"/>).</summary>
    public int MisplacedUsers => Volatile.Read(ref _misplacedUsers);

    private bool RoundSawCurrentMap => Interlocked.Read(ref _handOffRoundEpoch) == (Current?.Epoch ?? 0);

    public long HandOffsDone => Interlocked.Read(ref _handOffsDone);

    public long UsersMoved => Interlocked.Read(ref _usersMoved);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(ShardMapAgent),
            ServiceLifecycleStage.Active,
            _ =>
            {
                _mapLoop = Task.Run(() => RunEveryAsync(_options.RefreshInterval, RefreshOnceAsync), CancellationToken.None);
                _handOffLoop = Task.Run(() => RunEveryAsync(_options.HandOffInterval, HandOffRoundAsync), CancellationToken.None);
                return Task.CompletedTask;
            },
            async cancellationToken =>
            {
                await _stopping.CancelAsync();

                // A round may be inside a Raft call that only its response timeout ends; the silo's shutdown must not
                // wait for that (it would hold every grain of a leaving silo), and the round's result no longer matters.
                await Task.WhenAll(_mapLoop, _handOffLoop).WaitAsync(StopWait, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            });

    /// <summary>
    /// Brings the map up to date now, unless it is already at <paramref name="atLeastEpoch"/> or newer; called when a
    /// call arrives with a newer epoch than this silo's. Returns the map afterwards.
    /// </summary>
    public async Task<ShardMap?> RefreshAsync(long atLeastEpoch)
    {
        if (Current is { } map && map.Epoch >= atLeastEpoch)
        {
            return map;
        }

        await RefreshOnceAsync(_stopping.Token);
        return Current;
    }

    /// <summary>The active silo named <paramref name="name"/> (the newest generation if a restart left two), or null.</summary>
    public SiloAddress? AddressOf(string name) =>
        SiloPinnedPlacementDirector.NewestActive(name, _membership.CurrentSnapshot.Members.Values);

    /// <summary>
    /// Whether users may move now: not while a silo is still joining (it may not host grains yet, and its arrival
    /// will change the map again), so a join costs one round of moves, not two.
    /// </summary>
    public bool MayHandOff =>
        !_membership.CurrentSnapshot.Members.Values.Any(m => m.Status is SiloStatus.Created or SiloStatus.Joining);

    public void Dispose()
    {
        // The container may dispose it twice: it is registered as itself and as a lifecycle participant.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        _refreshing.Dispose();
    }

    private async Task RunEveryAsync(TimeSpan period, Func<CancellationToken, Task> round)
    {
        using var timer = new PeriodicTimer(period, _time);
        var token = _stopping.Token;
        do
        {
            try
            {
                await round(token);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // A round that fails (no Raft leader yet, a silo leaving mid-call) is retried at the next tick.
                LogRoundFailed(e, e.Message);
            }
        }
        while (await NextTickAsync(timer, token));
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task RefreshOnceAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            if (_options.MapSource == ShardMapSource.Raft)
            {
                await RefreshFromRaftAsync(cancellationToken);
            }
            else
            {
                RefreshFromMembership();
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// The silos that should own shards, sorted: active in Orleans and, unless <paramref name="membershipOnly"/>, not
    /// declared dead by this silo's gossip.
    /// </summary>
    private string[] DesiredMembers(bool membershipOnly = false)
    {
        var dead = membershipOnly ? null : _gossip?.Dead;
        return
        [
            .. _membership.CurrentSnapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active && (dead is null || !dead.Contains(m.Name)))
                .Select(m => m.Name)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal),
        ];
    }

    private void RefreshFromMembership()
    {
        // Orleans' membership alone, so every silo with the same snapshot computes the same map and epoch.
        var snapshot = _membership.CurrentSnapshot;
        var members = DesiredMembers(membershipOnly: true);
        var current = State;
        if (members.Length == 0 || (current is not null && current.Map.Members.SequenceEqual(members)))
        {
            return;
        }

        var allocated = _allocator.Allocate(members, _options.ShardCount);
        var map = new ShardMap(Math.Max(snapshot.Version.Value, (current?.Map.Epoch ?? 0) + 1), allocated.Members, [.. Enumerable.Range(0, allocated.ShardCount).Select(allocated.OwnerOfShard)]);
        Adopt(new MapState(map, ShardMapCodec.Encode(map), "membership"));
    }

    private async Task RefreshFromRaftAsync(CancellationToken cancellationToken)
    {
        var members = DesiredMembers();
        if (members.Length == 0)
        {
            return;
        }

        // The replicas to route through are every active silo's, not only the map's members: a silo this silo's gossip
        // declared dead may still lead the Raft log (gossip and Raft can be cut apart), and only a session that lists
        // it follows the others' hints to it.
        var raft = SessionFor(DesiredMembers(membershipOnly: true));
        var read = await raft.Client.GetAsync(_options.RaftKey, cancellationToken);
        var committed = read.Value is { } text ? new MapState(ShardMapCodec.Decode(text), text, "raft") : null;
        if (committed is not null)
        {
            Adopt(committed);
        }

        // One proposer at a time by convention (the first active name); the compare-and-swap makes a second one harmless.
        if (!string.Equals(members[0], _localSilo.Name, StringComparison.Ordinal) || !MayHandOff)
        {
            return;
        }

        if (committed is null || !committed.Map.Members.SequenceEqual(members, StringComparer.Ordinal))
        {
            var next = _allocator.Allocate(members, _options.ShardCount, committed?.Map);
            await ProposeAsync(raft, committed, next, $"members {string.Join(", ", members)}", cancellationToken);
            return;
        }

        if (committed is not null && _options.SplitHotShards && _time.GetElapsedTime(_lastHotShardCheck) >= _options.LoadWindow)
        {
            _lastHotShardCheck = _time.GetTimestamp();
            await SplitOrMergeHotShardsAsync(raft, committed, cancellationToken);
        }
    }

    /// <summary>
    /// Sums every silo's per-shard load and lets the hot-shard policy split a shard that dwarfs the rest (half its
    /// users to the least-loaded silo) or merge one that cooled down; a change is a new epoch like any other.
    /// </summary>
    private async Task SplitOrMergeHotShardsAsync(RaftSession raft, MapState committed, CancellationToken cancellationToken)
    {
        var map = committed.Map;
        var totals = new double[map.ShardCount];
        foreach (var loads in await Task.WhenAll(map.Members.Select(m => _grains.GetGrain<IShardHostGrain>(m).GetShardLoads().WaitAsync(_options.LoadWindow, cancellationToken))))
        {
            for (int shard = 0; shard < totals.Length && shard < loads.Length; shard++)
            {
                totals[shard] += loads[shard];
            }
        }

        var decision = _hotShards.Decide(map, totals);
        if (decision.NextMap is { } next)
        {
            await ProposeAsync(raft, committed, next, string.Join("; ", decision.Changes), cancellationToken);
        }
    }

    private async Task ProposeAsync(RaftSession raft, MapState? committed, ShardMap next, string reason, CancellationToken cancellationToken)
    {
        var encoded = ShardMapCodec.Encode(next);
        var result = await raft.Client.CompareAndSwapAsync(_options.RaftKey, committed?.Encoded, encoded, cancellationToken);
        if (result.Applied)
        {
            var moved = committed is null ? next.ShardCount : next.MovesFrom(committed.Map).Count + SplitChanges(next, committed.Map);
            LogProposed(next.Epoch, moved, next.ShardCount, reason, result.Index);
            Adopt(new MapState(next, encoded, "raft"));
        }
    }

    private static int SplitChanges(ShardMap next, ShardMap previous)
    {
        var changes = next.SplitChangesFrom(previous);
        return changes.Added.Count + changes.Removed.Count;
    }

    private RaftSession SessionFor(string[] replicas)
    {
        var session = _raft;
        if (session is null || !session.Replicas.SequenceEqual(replicas, StringComparer.Ordinal))
        {
            // A new session id per agent and replica set: a restarted silo must not reuse an old session's sequence
            // numbers, which the store would answer with the old outcomes.
            session = new RaftSession(replicas, new RaftKvClient(_grains, replicas, $"sharding/{_localSilo.Name}/{Guid.NewGuid():N}"));
            _raft = session;
        }

        return session;
    }

    private void Adopt(MapState next)
    {
        // The map loop, a call bringing a newer epoch and a leave may adopt at once: never go back to an older map.
        while (true)
        {
            var current = Volatile.Read(ref _state);
            if (current is not null && current.Map.Epoch >= next.Map.Epoch)
            {
                return;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref _state, next, current), current))
            {
                break;
            }
        }

        LogAdopted(next.Map.Epoch, next.Source, next.Map.ShardCountOf(_localSilo.Name), next.Map.Members.Count);
    }

    private Task HandOffRoundAsync(CancellationToken cancellationToken)
    {
        var map = Current;
        if (map is null)
        {
            return Task.CompletedTask;
        }

        var local = _localSilo.Name;
        var misplaced = _registry.Users
            .Where(u => !string.Equals(OwnerOf(map, u), local, StringComparison.Ordinal))
            .GroupBy(u => u.Shard)
            .OrderBy(g => g.Key)
            .ToList();
        Volatile.Write(ref _misplacedUsers, misplaced.Sum(g => g.Count()));
        Volatile.Write(ref _handOffsPending, misplaced.Count);
        Interlocked.Exchange(ref _handOffRoundEpoch, map.Epoch);
        if (misplaced.Count == 0 || !MayHandOff || cancellationToken.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        // Shards whose users are all on their way already wait for them to arrive; this round starts others.
        var handed = 0;
        foreach (var shard in misplaced.Where(g => g.Any(u => !u.IsMoving)).Take(_options.ShardsPerHandOff))
        {
            var movedAny = false;
            foreach (var user in shard)
            {
                if (!user.HasResided(_time, _options.MinimumResidence) || AddressOf(OwnerOf(map, user)) is not { } target || !user.TryStartMove())
                {
                    // Just arrived (a later round moves it), the owner is not active here yet (likewise), or the move is under way.
                    continue;
                }

                // Migration keeps the grain's state in memory and moves it; the hint names the new owner, which is
                // also what the director would pick from this map. The move outlives this round; if the silo stops
                // while the move is still queued, Stopping ends it (see there).
                user.Context.Migrate(new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = target }, Stopping);
                Interlocked.Increment(ref _usersMoved);
                movedAny = true;
            }

            handed += movedAny ? 1 : 0;
        }

        Interlocked.Add(ref _handOffsDone, handed);
        if (handed > 0)
        {
            LogHandOff(handed, map.Epoch, misplaced.Count - handed);
        }

        return Task.CompletedTask;
    }

    private static string OwnerOf(ShardMap map, LocalShardRegistry.ActiveUser user) => map.OwnerOfHash(user.Hash);

    private sealed record RaftSession(string[] Replicas, RaftKvClient Client);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard map epoch {Epoch} adopted (from {Source}): this silo owns {Owned} shards of {Members} members")]
    private partial void LogAdopted(long epoch, string source, int owned, int members);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard map epoch {Epoch} committed at log index {Index}: {Moved} of {Shards} shards move, split or merge ({Reason})")]
    private partial void LogProposed(long epoch, int moved, int shards, string reason, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handed off {Shards} shards of epoch {Epoch}; {Left} left")]
    private partial void LogHandOff(int shards, long epoch, int left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sharding round failed, retrying next round: {Reason}")]
    private partial void LogRoundFailed(Exception exception, string reason);
}
