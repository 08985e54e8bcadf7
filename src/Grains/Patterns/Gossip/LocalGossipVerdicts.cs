using System.Collections.Frozen;

namespace Orleans.Patterns.Gossip;

/// <summary>
/// What this silo's gossip member currently believes, for other patterns on the same silo to act on: the Raft replica
/// treats a silo that gossip declared dead as dead even while Orleans still lists it active (so a hung silo's replica
/// is removed after the grace period instead of never), and the watchdog keeps watching a silo gossip still holds
/// alive after Orleans dropped it. Written by the gossip grain, read from any thread.
/// </summary>
public sealed class LocalGossipVerdicts
{
    private Snapshot _current = new(0, FrozenSet<string>.Empty, FrozenSet<string>.Empty);

    /// <summary>Silo names the local gossip member lists as dead right now.</summary>
    public IReadOnlySet<string> Dead => Volatile.Read(ref _current).Dead;

    /// <summary>Silo names the local gossip member lists as alive or suspect right now, itself included.</summary>
    public IReadOnlySet<string> Live => Volatile.Read(ref _current).Live;

    /// <summary>Grows with every published change, so a reader can tell whether anything moved since it last looked.</summary>
    public long Version => Volatile.Read(ref _current).Version;

    internal void Publish(MembershipView view)
    {
        var dead = view.Entries.Values.Where(e => e.Status.State == MemberState.Dead).Select(e => e.Member.Name).ToFrozenSet(StringComparer.Ordinal);
        var live = view.Entries.Values.Where(e => e.Status.State != MemberState.Dead).Select(e => e.Member.Name).ToFrozenSet(StringComparer.Ordinal);
        Volatile.Write(ref _current, new Snapshot(_current.Version + 1, dead, live));
    }

    private sealed record Snapshot(long Version, FrozenSet<string> Dead, FrozenSet<string> Live);
}
