using Orleans.Concurrency;

namespace Orleans.Patterns.Gossip;

/// <summary>
/// One SWIM member per silo, keyed by the silo's stable name and pinned to that silo: it probes the others, spreads
/// membership changes piggy-backed on its probes, and keeps this silo's view of the cluster, which anyone may inspect.
/// </summary>
public interface IGossipGrain : IGrainWithStringKey
{
    /// <summary>
    /// A SWIM message from a peer, encoded by the core's codec. One-way: members never wait on each other, so two
    /// members probing each other cannot deadlock and a hung peer never blocks a sender (its silence is the signal).
    /// </summary>
    [OneWay]
    Task Deliver(byte[] message);

    /// <summary>Starts the member if it is not running yet (the silo does this at start-up); idempotent.</summary>
    Task Start();

    /// <summary>This silo's view: every member it knows, with status, incarnation and when it last changed.</summary>
    [AlwaysInterleave]
    Task<GossipView> GetView();

    /// <summary>
    /// A recovery action from this silo's heartbeat watchdog: <paramref name="member"/> stopped answering heartbeats,
    /// so SWIM should suspect it now instead of waiting for its own probe to come round. A live member refutes it.
    /// </summary>
    Task ReportSuspect(string member);
}

/// <summary>One silo's membership view as its gossip member holds it.</summary>
/// <param name="Silo">The silo whose view this is.</param>
/// <param name="Incarnation">That member's own incarnation.</param>
/// <param name="LocalHealth">Lifeguard's local health multiplier (0 is healthy).</param>
/// <param name="Members">Every member it knows, ordered by name.</param>
[GenerateSerializer, Immutable, Alias("patterns.gossip.view")]
public sealed record GossipView(
    [property: Id(0)] string Silo,
    [property: Id(1)] int Incarnation,
    [property: Id(2)] int LocalHealth,
    [property: Id(3)] IReadOnlyList<GossipMember> Members);

/// <summary>One member in a view: its status (Alive, Suspect, Dead), incarnation, address and tags, and how long ago it last changed.</summary>
[GenerateSerializer, Immutable, Alias("patterns.gossip.member")]
public sealed record GossipMember(
    [property: Id(0)] string Name,
    [property: Id(1)] string Status,
    [property: Id(2)] int Incarnation,
    [property: Id(3)] string Address,
    [property: Id(4)] IReadOnlyDictionary<string, string> Tags,
    [property: Id(5)] TimeSpan SinceChange);
