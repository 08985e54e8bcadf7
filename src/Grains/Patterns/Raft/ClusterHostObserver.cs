using Orleans.Patterns.Raft.Membership;

namespace Orleans.Patterns.Raft;

/// <summary>
/// Turns Orleans membership snapshots into the planner's per-name view, remembering since when each silo name has
/// been alive or dead on this replica's clock.
/// </summary>
/// <remarks>
/// Replicas are named after silos, and a restarted silo comes back under the same name with a new generation, so the
/// membership table can hold a dead and a live entry for one name: any Active entry makes the name alive. A name
/// whose entries are all Dead is dead, and so is an active one that this silo's gossip member declared dead. Anything else (joining, shutting down) is in transition and left out, so the
/// planner neither adds nor removes it. The clock starts when this replica first sees the state: a new leader
/// restarts the grace period of a silo that died before it took over, which errs towards keeping the member.
/// </remarks>
internal sealed class ClusterHostObserver
{
    private readonly Dictionary<NodeId, HostObservation> _hosts = [];

    public IReadOnlyDictionary<NodeId, HostObservation> Hosts => _hosts;

    /// <param name="members">Orleans' membership.</param>
    /// <param name="now">The planner's clock.</param>
    /// <param name="deadByGossip">
    /// Names this silo's gossip member holds dead (empty without gossip): such a silo counts as dead even while Orleans
    /// lists it active, which is what a hung silo looks like to Orleans for a long time. It counts as alive again once
    /// gossip takes it back (it refuted its death).
    /// </param>
    public void Observe(IEnumerable<ClusterMember> members, TimeSpan now, IReadOnlySet<string>? deadByGossip = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        var current = new Dictionary<NodeId, HostLiveness?>();
        foreach (var member in members)
        {
            var name = new NodeId(member.Name);
            var liveness = member.Status switch
            {
                SiloStatus.Active when deadByGossip?.Contains(member.Name) == true => HostLiveness.Dead,
                SiloStatus.Active => HostLiveness.Alive,
                SiloStatus.Dead => HostLiveness.Dead,
                _ => (HostLiveness?)null,
            };
            if (!current.TryGetValue(name, out var seen))
            {
                current[name] = liveness;
            }
            else if (seen != HostLiveness.Alive)
            {
                // Alive beats everything; a transition beats dead (the silo is on its way back).
                current[name] = liveness == HostLiveness.Alive || liveness is null ? liveness : seen;
            }
        }

        foreach (var name in _hosts.Keys.Where(n => !current.TryGetValue(n, out var l) || l is null).ToList())
        {
            _hosts.Remove(name);
        }

        foreach (var (name, liveness) in current)
        {
            if (liveness is { } known && (!_hosts.TryGetValue(name, out var previous) || previous.Liveness != known))
            {
                _hosts[name] = new HostObservation(known, now);
            }
        }
    }
}
