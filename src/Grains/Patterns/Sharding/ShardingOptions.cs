using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Sharding;

/// <summary>Where the shard map is agreed.</summary>
public enum ShardMapSource
{
    /// <summary>
    /// Each silo derives the map from the active silos alone, allocating from scratch, so every silo with the same
    /// membership computes the same map without talking. The epoch is Orleans' membership version. A join moves more
    /// than a sticky allocation would, because nothing remembers the previous owners. Epochs are not agreed (each silo
    /// numbers a map by the membership version it saw the change at), so calls are not refused for a stale epoch, and
    /// hot shards are not split.
    /// </summary>
    Membership,

    /// <summary>
    /// The map is committed through the Raft log (<c>AddRaftReplicas</c> must be on): one silo proposes each new
    /// epoch from the previous map (sticky, so a join moves close to the 1/(N+1) optimum) with a compare-and-swap,
    /// and every silo reads the committed map, so all route by the same epoch.
    /// </summary>
    Raft,
}

/// <summary>Options of user-based sharding (<c>siloBuilder.AddUserSharding</c>).</summary>
public sealed class ShardingOptions
{
    /// <summary>Virtual shards; fixed for the life of a cluster (changing it moves every user).</summary>
    public int ShardCount { get; set; } = 4096;

    /// <summary>Where the map is agreed.</summary>
    public ShardMapSource MapSource { get; set; } = ShardMapSource.Membership;

    /// <summary>Allocation strategy: <c>rendezvous</c> (highest random weight) or <c>ring</c> (consistent hashing with virtual nodes).</summary>
    public string Allocator { get; set; } = "rendezvous";

    /// <summary>Bounded-load factor c: no silo owns more than ⌈c · S / N⌉ shards. Null turns the cap off.</summary>
    public double? LoadFactor { get; set; } = ShardLoadCap.DefaultBalanceFactor;

    /// <summary>How often a silo re-reads the map (and the proposer checks whether membership calls for a new epoch).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a silo runs a hand-off round: users of shards it no longer owns move to their new owner.</summary>
    public TimeSpan HandOffInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a user stays where it was activated (or arrived) before it may move again. Two map epochs a moment
    /// apart can send a user one way and straight back; a move that starts while the previous one's handshake is still
    /// open deadlocks Orleans' migration (each silo waits for the other's activation) until its 30 s call timeout, and
    /// every call to that user waits with it. Zero moves at once.
    /// </summary>
    public TimeSpan MinimumResidence { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Most shards one silo hands off per round; the effective limit is the smaller of this and
    /// <see cref="MaxHandOffFraction"/> of the shards, so a big change moves in steps instead of all at once.
    /// </summary>
    public int MaxShardsPerHandOff { get; set; } = 20;

    /// <summary>Most shards per hand-off round as a fraction of the shard count (0.10 = 10%).</summary>
    public double MaxHandOffFraction { get; set; } = 0.10;

    /// <summary>Idle user grains are deactivated (passivated) after this long without a call; their state stays durable.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The window over which per-shard load (operations per second) is measured.</summary>
    public TimeSpan LoadWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Split hot shards and merge them back when cool (the proposer decides, from every silo's load, once per
    /// <see cref="LoadWindow"/>). Only with <see cref="ShardMapSource.Raft"/>: a split is a decision from measured
    /// load, which silos could not each derive alike the way they derive a map from membership.
    /// </summary>
    public bool SplitHotShards { get; set; } = true;

    /// <summary>When a shard counts as hot (split) and as cool again (merge); used when <see cref="SplitHotShards"/> is on.</summary>
    public HotShardOptions HotShards { get; set; } = new();

    /// <summary>The Raft key the map is stored under.</summary>
    public string RaftKey { get; set; } = "sharding/map";

    /// <summary>The effective number of shards per hand-off round.</summary>
    internal int ShardsPerHandOff => Math.Max(1, Math.Min(MaxShardsPerHandOff, (int)Math.Ceiling(MaxHandOffFraction * ShardCount)));

    /// <summary>The allocator these options select.</summary>
    internal IShardAllocator CreateAllocator()
    {
        var cap = LoadFactor is { } c ? new ShardLoadCap(c) : null;
        return Allocator switch
        {
            "rendezvous" => new RendezvousShardAllocator(cap),
            "ring" => new RingShardAllocator(cap),
            _ => throw new InvalidOperationException($"sharding allocator '{Allocator}' is not one of rendezvous, ring"),
        };
    }
}

/// <summary>Validates <see cref="ShardingOptions"/> at silo start, naming the option and the value.</summary>
internal sealed class ShardingOptionsValidator : IValidateOptions<ShardingOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardingOptions o)
    {
        var failures = new List<string>();
        if (o.ShardCount is < 1 or > ShardMap.MaxShardCount)
        {
            failures.Add($"sharding ShardCount ({o.ShardCount}) must be between 1 and {ShardMap.MaxShardCount}");
        }

        if (o.Allocator is not ("rendezvous" or "ring"))
        {
            failures.Add($"sharding Allocator ('{o.Allocator}') must be rendezvous or ring");
        }

        if (o.LoadFactor is { } c && !(c >= 1.0 && c <= 10.0))
        {
            failures.Add($"sharding LoadFactor ({c}) must be between 1.0 and 10.0");
        }

        Positive(failures, nameof(o.RefreshInterval), o.RefreshInterval);
        Positive(failures, nameof(o.HandOffInterval), o.HandOffInterval);
        Positive(failures, nameof(o.IdleTimeout), o.IdleTimeout);
        Positive(failures, nameof(o.LoadWindow), o.LoadWindow);
        if (o.MaxShardsPerHandOff < 1)
        {
            failures.Add($"sharding MaxShardsPerHandOff ({o.MaxShardsPerHandOff}) must be at least 1");
        }

        if (o.MinimumResidence < TimeSpan.Zero)
        {
            failures.Add($"sharding MinimumResidence ({o.MinimumResidence}) must not be negative");
        }

        if (!(o.MaxHandOffFraction > 0 && o.MaxHandOffFraction <= 1))
        {
            failures.Add($"sharding MaxHandOffFraction ({o.MaxHandOffFraction}) must be in (0, 1]");
        }

        try
        {
            HotShardOptionsValidator.Validate(o.HotShards);
        }
        catch (ArgumentException e)
        {
            failures.Add($"sharding {e.Message}");
        }

        if (string.IsNullOrWhiteSpace(o.RaftKey))
        {
            failures.Add("sharding RaftKey must not be empty");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"sharding {name} ({value}) must be positive");
        }
    }
}
