using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

/// <summary>The four strategies under test, by name, so theories can list them as data.</summary>
internal static class ShardAllocators
{
    public const string Rendezvous = "rendezvous";
    public const string RendezvousBounded = "rendezvous-bounded";
    public const string Ring = "ring";
    public const string RingBounded = "ring-bounded";

    public static IShardAllocator Create(string name, double balanceFactor = ShardLoadCap.DefaultBalanceFactor) => name switch
    {
        Rendezvous => new RendezvousShardAllocator(cap: null),
        RendezvousBounded => new RendezvousShardAllocator(new ShardLoadCap(balanceFactor)),
        Ring => new RingShardAllocator(cap: null),
        RingBounded => new RingShardAllocator(new ShardLoadCap(balanceFactor)),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown allocator."),
    };

    public static bool IsBounded(string name) => name is RendezvousBounded or RingBounded;

    public static string[] Silos(int count) => [.. Enumerable.Range(1, count).Select(i => $"silo-{i}")];
}
