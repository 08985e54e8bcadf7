using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orleans.Patterns.Telemetry;

/// <summary>
/// The project's instruments. One instance per silo container, created through <see cref="IMeterFactory"/>
/// so that several in-process silos (tests) never share mutable static state.
/// </summary>
internal sealed class PatternsMetrics : IDisposable
{
    // Boxed once: a bool tag value would otherwise allocate on every placement.
    private static readonly object HintTrue = true;
    private static readonly object HintFalse = false;

    private readonly Meter _meter;
    private readonly Counter<long> _placementDecisions;
    private readonly Counter<long> _userOperations;
    private readonly Histogram<double> _raftLogSync;
    private readonly Histogram<double> _raftPersist;
    private readonly Histogram<double> _raftAppend;
    private readonly Histogram<double> _raftReplication;
    private readonly Histogram<double> _raftCommit;
    private int _ringMembers;
    private int _ringVirtualNodes;

    public PatternsMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(PatternsTelemetry.MeterName);
        _placementDecisions = _meter.CreateCounter<long>(
            "orleans_patterns.placement.decisions", unit: "{decision}",
            description: "Activations placed by the consistent-hash ring, by chosen silo.");
        _userOperations = _meter.CreateCounter<long>(
            "orleans_patterns.user.operations", unit: "{operation}",
            description: "Operations served by user grains, by operation and placement.");
        _raftLogSync = RaftHistogram(
            "orleans_patterns.raft.log.sync.duration",
            "A Raft log write group's write and fsync, on the log's writer thread, by replica.");
        _raftPersist = RaftHistogram(
            "orleans_patterns.raft.persist.duration",
            "From a replica handing a Ready to its log to the replica running again once the write is durable (the sync, "
            + "the wait for the writer thread, and the way back to the grain), by replica.");
        _raftAppend = RaftHistogram(
            "orleans_patterns.raft.append.duration",
            "On a follower: from an AppendEntries with entries arriving to the answer that acknowledges them leaving, by replica.");
        _raftReplication = RaftHistogram(
            "orleans_patterns.raft.replication.duration",
            "On a leader: from entries leaving for a follower to that follower's answer acknowledging them arriving (the "
            + "follower's append and both ways over the wire), by replica and peer.");
        _raftCommit = RaftHistogram(
            "orleans_patterns.raft.commit.duration",
            "On a leader: from taking a call's proposals to all of them committed and applied, by replica.");
        _meter.CreateObservableGauge(
            "orleans_patterns.ring.members", () => Volatile.Read(ref _ringMembers), unit: "{silo}",
            description: "Silos on this silo's latest placement ring.");
        _meter.CreateObservableGauge(
            "orleans_patterns.ring.virtual_nodes", () => Volatile.Read(ref _ringVirtualNodes), unit: "{vnode}",
            description: "Virtual nodes on this silo's latest placement ring.");
    }

    public void PlacementDecided(string siloMemberId, bool fromHint) =>
        _placementDecisions.Add(1, new TagList { { "silo", siloMemberId }, { "hint", fromHint ? HintTrue : HintFalse } });

    public void RingBuilt(int members, int virtualNodes)
    {
        Volatile.Write(ref _ringMembers, members);
        Volatile.Write(ref _ringVirtualNodes, virtualNodes);
    }

    public void UserOperation(string operation, string grainType) =>
        _userOperations.Add(1, new TagList { { "operation", operation }, { "grain_type", grainType } });

    public void RaftLogSynced(string replica, TimeSpan elapsed) => Record(_raftLogSync, elapsed, replica);

    public void RaftPersisted(string replica, TimeSpan elapsed) => Record(_raftPersist, elapsed, replica);

    public void RaftAppended(string replica, TimeSpan elapsed) => Record(_raftAppend, elapsed, replica);

    public void RaftReplicated(string replica, string peer, TimeSpan elapsed)
    {
        if (_raftReplication.Enabled)
        {
            _raftReplication.Record(elapsed.TotalSeconds, new TagList { { "replica", replica }, { "peer", peer } });
        }
    }

    public void RaftCommitted(string replica, TimeSpan elapsed) => Record(_raftCommit, elapsed, replica);

    public void Dispose() => _meter.Dispose();

    private static void Record(Histogram<double> histogram, TimeSpan elapsed, string replica)
    {
        if (histogram.Enabled)
        {
            histogram.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("replica", replica));
        }
    }

    // Raft's stages take from tens of microseconds to a few milliseconds; the default buckets start at 5 (seconds).
    private Histogram<double> RaftHistogram(string name, string description) =>
        _meter.CreateHistogram(name, unit: "s", description: description, tags: null, advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
        });
}
