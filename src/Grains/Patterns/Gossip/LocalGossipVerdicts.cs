using System.Collections.Frozen;

namespace Orleans.Patterns.Gossip;

/// <summary>
/// What this silo's gossip member currently holds dead, for other patterns on the same silo to act on (the Raft
/// replica treats a silo that gossip declared dead as dead even while Orleans still lists it active, so a hung silo's
/// replica is removed after the grace period instead of never). Written by the gossip grain, read from any thread.
/// </summary>
public sealed class LocalGossipVerdicts
{
    private FrozenSet<string> _dead = FrozenSet<string>.Empty;

    /// <summary>Silo names the local gossip member lists as dead right now.</summary>
    public IReadOnlySet<string> Dead => Volatile.Read(ref _dead);

    internal void Publish(MembershipView view) =>
        Volatile.Write(ref _dead, view.Entries.Values.Where(e => e.Status.State == MemberState.Dead).Select(e => e.Member.Name).ToFrozenSet(StringComparer.Ordinal));
}
