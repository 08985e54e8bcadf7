using Orleans.Concurrency;

namespace Orleans.Patterns.Gossip;

/// <summary>
/// One heartbeat watchdog per silo, keyed by the silo's name and pinned to it: it asks a fixed number of peers (its
/// successors on a ring of silo names) for heartbeats, keeps a phi-accrual detector per peer, and when phi crosses the
/// threshold convicts the peer and acts: it reports it to this silo's gossip member as suspect.
/// </summary>
public interface IHeartbeatWatchdogGrain : IGrainWithStringKey
{
    /// <summary>A watcher asks for a heartbeat; this watchdog answers with <see cref="Heartbeat"/>. One-way, as all peer traffic.</summary>
    [OneWay]
    Task RequestHeartbeat(string watcher);

    /// <summary>A heartbeat from a watched peer.</summary>
    [OneWay]
    Task Heartbeat(string peer);

    /// <summary>Starts the watchdog if it is not running yet (the silo does this at start-up); idempotent.</summary>
    Task Start();

    /// <summary>Phi per watched peer, and which ones are convicted.</summary>
    [AlwaysInterleave]
    Task<WatchdogHealth> GetHealth();
}

/// <summary>A watchdog's peers as the <c>health</c> command shows them, and its latest verdicts (oldest first).</summary>
[GenerateSerializer, Immutable, Alias("patterns.gossip.watchdog-health")]
public sealed record WatchdogHealth(
    [property: Id(0)] string Silo,
    [property: Id(1)] double Threshold,
    [property: Id(2)] IReadOnlyList<WatchdogPeer> Peers,
    [property: Id(3)] IReadOnlyList<WatchdogVerdictRecord> RecentVerdicts);

/// <summary>A conviction or re-admission: the peer, the verdict, phi then, and how long ago it was.</summary>
[GenerateSerializer, Immutable, Alias("patterns.gossip.watchdog-verdict")]
public sealed record WatchdogVerdictRecord(
    [property: Id(0)] string Peer,
    [property: Id(1)] string Verdict,
    [property: Id(2)] double Phi,
    [property: Id(3)] TimeSpan Ago);

/// <summary>One watched peer: its phi now, whether it is convicted, and how long since its last heartbeat (null: none yet).</summary>
[GenerateSerializer, Immutable, Alias("patterns.gossip.watchdog-peer")]
public sealed record WatchdogPeer(
    [property: Id(0)] string Peer,
    [property: Id(1)] double Phi,
    [property: Id(2)] bool Convicted,
    [property: Id(3)] TimeSpan? SinceHeartbeat);
