namespace Orleans.Patterns.Sharding;

/// <summary>
/// A strategy's ranking of members for each shard, which is all the bounded-load assignment needs to know about it.
/// </summary>
internal abstract class ShardPreference
{
    /// <summary>The member the shard goes to when loads are not bounded.</summary>
    public abstract int Preferred(int shard);

    /// <summary>
    /// The highest-ranked member for <paramref name="shard"/> whose entry in <paramref name="blocked"/> is 0, or -1
    /// if every member is blocked.
    /// </summary>
    public abstract int FirstAllowed(int shard, ReadOnlySpan<int> blocked);
}
