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

    public void Dispose() => _meter.Dispose();
}
