using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// This silo's sharded users: which activations are here, in which shard, and how busy each shard is. User grains
/// register on activation and leave on deactivation; the hand-off rounds read it to find users whose shard moved, and
/// the shard host reports from it. Thread-safe; the per-call cost is one interlocked increment.
/// </summary>
internal sealed class LocalShardRegistry
{
    private readonly ConcurrentDictionary<GrainId, ActiveUser> _users = new();
    private readonly int[] _activeByShard;
    private readonly long[] _opsByShard;
    private readonly long[] _opsAtSample;
    private readonly TimeProvider _time;
    private readonly object _sampleLock = new();
    private double[] _rates;
    private long _sampledAt;

    public LocalShardRegistry(IOptions<ShardingOptions> options, TimeProvider time)
    {
        int shards = options.Value.ShardCount;
        _activeByShard = new int[shards];
        _opsByShard = new long[shards];
        _opsAtSample = new long[shards];
        _rates = new double[shards];
        _time = time;
        _sampledAt = time.GetTimestamp();
    }

    /// <summary>
    /// An active user: its grain, the hash its shard and half come from, its activation, and when that activation
    /// started here (a <see cref="TimeProvider"/> timestamp).
    /// </summary>
    internal sealed class ActiveUser(GrainId id, ulong hash, int shard, IGrainContext context, long activatedAt = 0)
    {
        private int _moving;

        public long ActivatedAt => activatedAt;

        public GrainId Id => id;

        public ulong Hash => hash;

        public int Shard => shard;

        public IGrainContext Context => context;

        /// <summary>Whether a move of this activation has been started.</summary>
        public bool IsMoving => Volatile.Read(ref _moving) != 0;

        /// <summary>True for the one caller that starts this activation's move (a hand-off round or the grain itself).</summary>
        public bool TryStartMove() => Interlocked.Exchange(ref _moving, 1) == 0;

        /// <summary>Whether this activation has been here at least <paramref name="residence"/> (see <see cref="ShardingOptions.MinimumResidence"/>).</summary>
        public bool HasResided(TimeProvider time, TimeSpan residence) => residence <= TimeSpan.Zero || time.GetElapsedTime(activatedAt) >= residence;
    }

    public int ShardCount => _activeByShard.Length;

    public int ActiveUsers => _users.Count;

    public void Register(ActiveUser user)
    {
        if (_users.TryAdd(user.Id, user))
        {
            Interlocked.Increment(ref _activeByShard[user.Shard]);
        }
    }

    public void Unregister(GrainId id, IGrainContext context)
    {
        // Only this activation's own entry: a newer activation of the same user (after a migration back) stays.
        if (_users.TryGetValue(id, out var user) && ReferenceEquals(user.Context, context)
            && _users.TryRemove(new KeyValuePair<GrainId, ActiveUser>(id, user)))
        {
            Interlocked.Decrement(ref _activeByShard[user.Shard]);
        }
    }

    public void CountOperation(int shard) => Interlocked.Increment(ref _opsByShard[shard]);

    public int ActiveIn(int shard) => Volatile.Read(ref _activeByShard[shard]);

    public IEnumerable<ActiveUser> Users => _users.Values;

    /// <summary>
    /// Operations per second per shard over the last completed window; starts a new window when the current one is
    /// over. The array is a snapshot: callers may keep it.
    /// </summary>
    public double[] Rates(TimeSpan window)
    {
        lock (_sampleLock)
        {
            var now = _time.GetTimestamp();
            var elapsed = _time.GetElapsedTime(_sampledAt, now);
            if (elapsed >= window)
            {
                var rates = new double[_opsByShard.Length];
                for (int shard = 0; shard < rates.Length; shard++)
                {
                    long ops = Interlocked.Read(ref _opsByShard[shard]);
                    rates[shard] = (ops - _opsAtSample[shard]) / elapsed.TotalSeconds;
                    _opsAtSample[shard] = ops;
                }

                _rates = rates;
                _sampledAt = now;
            }

            return _rates;
        }
    }
}
