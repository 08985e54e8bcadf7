using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Telemetry;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.Patterns.Users;
using Orleans.Runtime.Placement;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Placement;

[Trait("Category", "Cluster")]
[Collection(ThreeSiloClusterCollection.Name)]
public sealed class PlacementTelemetryClusterTests(ThreeSiloClusterFixture fixture, ITestOutputHelper output)
{
    private const string Decisions = "orleans_patterns.placement.decisions";
    private const string RingMembers = "orleans_patterns.ring.members";
    private const string RingVirtualNodes = "orleans_patterns.ring.virtual_nodes";

    [Fact]
    public async Task Each_fresh_ring_activation_records_one_decision_and_the_ring_gauges_read_the_cluster()
    {
        var cluster = fixture.Cluster;

        // In-process silos share one process, and other test classes run their own clusters in parallel: the
        // listener would see all their meters. Each silo's meter is scoped to that silo's IMeterFactory, which
        // tells this cluster's measurements apart and attributes them to a silo.
        var siloByFactory = cluster.Silos.ToDictionary(
            s => (object)cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<IMeterFactory>(),
            s => s.SiloAddress);
        var decisions = new ConcurrentBag<(SiloAddress Recorder, long Value, string? Silo, bool? Hint)>();
        var gauges = new ConcurrentBag<(SiloAddress Recorder, string Name, int Value)>();

        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PatternsTelemetry.MeterName && instrument.Meter.Scope is { } scope && siloByFactory.ContainsKey(scope))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };

        // Callbacks run inside the grain that records, so they only collect; the test asserts afterwards.
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == Decisions)
            {
                string? silo = null;
                bool? hint = null;
                foreach (var tag in tags)
                {
                    switch (tag.Key)
                    {
                        case "silo": silo = tag.Value as string; break;
                        case "hint": hint = tag.Value as bool?; break;
                        default: break;
                    }
                }

                decisions.Add((siloByFactory[instrument.Meter.Scope!], value, silo, hint));
            }
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
            gauges.Add((siloByFactory[instrument.Meter.Scope!], instrument.Name, value)));
        listener.Start();

        const int FreshUsers = 40;
        var ids = Enumerable.Range(0, FreshUsers).Select(i => $"telemetry-{i}").ToArray();
        var locations = await Task.WhenAll(ids.Select(id => cluster.Client.GetUser(id).GetLocation()));

        // A hinted placement is counted too, but tagged as such.
        var hinted = cluster.Client.GetUser("telemetry-hinted");
        RequestContext.Set(IPlacementDirector.PlacementHintKey, locations[0].Silo);
        try
        {
            await hinted.GetLocation();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        // Calls to users that are already active place nothing.
        await Task.WhenAll(ids.Select(id => cluster.Client.GetUser(id).GetLocation()));

        var snapshot = decisions.ToArray();
        Assert.All(snapshot, d => Assert.True(d.Value == 1 && d.Silo is not null && d.Hint is not null, $"Malformed decision: {d}"));
        output.WriteLine($"Decisions by recording silo: {string.Join(", ", snapshot.GroupBy(d => d.Recorder).Select(g => $"{g.Key}={g.Count()}"))}");
        Assert.Equal(FreshUsers, snapshot.Count(d => d.Hint == false));
        Assert.Equal(1, snapshot.Count(d => d.Hint == true));

        // The silo tag is the chosen silo's ring member id, and it agrees with where each user went.
        var expectedByMember = locations.GroupBy(l => RingMembership.MemberId(l.Silo)).ToDictionary(g => g.Key, g => g.Count());
        var recordedByMember = snapshot.Where(d => d.Hint == false).GroupBy(d => d.Silo!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expectedByMember.OrderBy(p => p.Key), recordedByMember.OrderBy(p => p.Key));

        listener.RecordObservableInstruments();
        var readings = gauges.ToArray();
        output.WriteLine("Gauges: " + string.Join(", ", readings.Select(r => $"{r.Recorder} {r.Name}={r.Value}")));
        var vnodes = RingExpectation.VirtualNodesOf(cluster);

        // Every silo that placed a grain just now has a ring, and it must be over the whole cluster.
        foreach (var recorder in snapshot.Select(d => d.Recorder).Distinct())
        {
            Assert.Equal([ThreeSiloClusterFixture.SiloCount], readings.Where(r => r.Recorder == recorder && r.Name == RingMembers).Select(r => r.Value));
            Assert.Equal([ThreeSiloClusterFixture.SiloCount * vnodes], readings.Where(r => r.Recorder == recorder && r.Name == RingVirtualNodes).Select(r => r.Value));
        }

        // Each silo reports its gauges once per collection.
        Assert.Equal(ThreeSiloClusterFixture.SiloCount, readings.Count(r => r.Name == RingMembers));
        Assert.Equal(ThreeSiloClusterFixture.SiloCount, readings.Count(r => r.Name == RingVirtualNodes));
        Assert.Equal(UserGrainTypes.Ring, locations[0].GrainType);
    }
}
