using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Patterns.Client.Commands;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Client;
using Orleans.Patterns.Telemetry;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft.Cluster;

/// <summary>The write path's histograms, recorded by real replicas on the shared coordination cluster.</summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class RaftWritePathMetricsClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    private const string Prefix = "orleans_patterns.raft.";

    [Fact]
    public async Task Writes_are_timed_at_every_stage_on_the_replicas_that_run_it()
    {
        var cluster = fixture.Cluster;

        // In-process silos share the process, and other clusters' silos run in parallel: each silo's meter is scoped to
        // its own IMeterFactory, which tells this cluster's measurements apart.
        var factories = cluster.Silos
            .Select(s => (object)cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<IMeterFactory>())
            .ToHashSet();
        var seen = new ConcurrentBag<(string Instrument, double Seconds, string? Replica, string? Peer)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PatternsTelemetry.MeterName && instrument.Name.StartsWith(Prefix, StringComparison.Ordinal)
                && instrument.Meter.Scope is { } scope && factories.Contains(scope))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };

        // Callbacks run in the recording replica's turn or on its log's writer thread: they only collect.
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            string? replica = null, peer = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "replica": replica = tag.Value as string; break;
                    case "peer": peer = tag.Value as string; break;
                    default: break;
                }
            }

            seen.Add((instrument.Name[Prefix.Length..], value, replica, peer));
        });
        listener.Start();

        var leader = await RaftLeaders.WaitForSingleLeaderAsync(cluster.Client, CoordinationClusterFixture.Voters, TimeSpan.FromSeconds(20));
        var followers = CoordinationClusterFixture.Voters.Where(v => v != leader).Order(StringComparer.Ordinal).ToArray();
        var kv = new RaftKvClient(cluster.Client, CoordinationClusterFixture.Voters, $"metrics-{Guid.NewGuid():N}");
        const int Writes = 20;
        KvWriteResult last = null!;
        for (var i = 0; i < Writes; i++)
        {
            last = await kv.PutAsync($"metrics/{i}", $"v{i}");
        }

        // Followers acknowledge (and so time) an append before the leader commits it; the leader's answer may still be on
        // its way when the write returns, so wait for both followers' timings of the last write's round.
        await Eventually.WaitAsync(
            () => Task.FromResult(followers.All(f => seen.Any(m => m.Instrument == "replication.duration" && m.Peer == f))
                && followers.All(f => seen.Any(m => m.Instrument == "append.duration" && m.Replica == f))),
            TimeSpan.FromSeconds(10),
            () => $"replication and append timings for both followers of {leader} (write at index {last.Index})");
        listener.Dispose();

        var measurements = seen.ToArray();
        foreach (var stage in measurements.GroupBy(m => (m.Instrument, m.Replica, m.Peer)).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal))
        {
            var sorted = stage.Select(m => m.Seconds * 1000).Order().ToArray();
            output.WriteLine($"{stage.Key.Instrument} {stage.Key.Replica}{(stage.Key.Peer is null ? "" : " -> " + stage.Key.Peer)}: "
                + $"n={sorted.Length} p50={sorted[sorted.Length / 2]:0.000} ms max={sorted[^1]:0.000} ms");
        }

        Assert.All(measurements, m => Assert.True(m.Seconds > 0 && m.Seconds < 30, $"{m.Instrument} of {m.Replica}: {m.Seconds} s"));
        Assert.All(measurements, m => Assert.Contains(m.Replica, CoordinationClusterFixture.Voters));

        // Commits and replication rounds are the leader's; appends are the followers'; every replica syncs its own log.
        Assert.True(measurements.Count(m => m.Instrument == "commit.duration" && m.Replica == leader) >= Writes, "a commit timing per write on the leader");
        Assert.DoesNotContain(measurements, m => m.Instrument == "commit.duration" && m.Replica != leader);
        Assert.All(measurements.Where(m => m.Instrument == "replication.duration"), m =>
        {
            Assert.Equal(leader, m.Replica);
            Assert.Contains(m.Peer, followers);
        });
        Assert.DoesNotContain(measurements, m => m.Instrument == "append.duration" && m.Replica == leader);
        foreach (var replica in CoordinationClusterFixture.Voters)
        {
            Assert.Contains(measurements, m => m.Instrument == "log.sync.duration" && m.Replica == replica);
            Assert.Contains(measurements, m => m.Instrument == "persist.duration" && m.Replica == replica);
        }

        // The replicas keep the same timings for `raft latency`: the leader's commit and replication to each follower,
        // the followers' appends, everyone's persist and log sync.
        var latencies = (await Task.WhenAll(CoordinationClusterFixture.Voters.Select(v => cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetWritePathLatency())))
            .ToDictionary(l => l.Node);
        Assert.Equal("Leader", latencies[leader].Role);
        Assert.Equal(
            [RaftWritePathStages.Commit, RaftWritePathStages.Replication, RaftWritePathStages.Replication, RaftWritePathStages.Persist, RaftWritePathStages.LogSync],
            latencies[leader].Stages.Select(s => s.Stage));
        Assert.Equal(followers, latencies[leader].Stages.Where(s => s.Peer is not null).Select(s => s.Peer!));
        Assert.True(latencies[leader].Stages[0].Samples >= Writes, $"{latencies[leader].Stages[0].Samples} commit timings kept");
        foreach (var follower in followers)
        {
            Assert.Equal([RaftWritePathStages.Append, RaftWritePathStages.Persist, RaftWritePathStages.LogSync], latencies[follower].Stages.Select(s => s.Stage));
        }

        Assert.All(latencies.Values.SelectMany(l => l.Stages), s => Assert.True(
            s.Samples > 0 && 0 < s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max,
            $"{s.Stage} {s.Peer}: n={s.Samples} p50={s.P50} p90={s.P90} p99={s.P99} max={s.Max}"));

        // What `raft latency` prints: the leader's rows first, a row per stage and follower.
        var console = new TestConsole();
        console.Console.Write(RaftCommands.LatencyTable(new SortedDictionary<string, object>(latencies.ToDictionary(p => p.Key, p => (object)p.Value))));
        var rows = console.Output.Split('\n');
        output.WriteLine(console.Output);
        Assert.Contains(rows, r => r.Contains(leader, StringComparison.Ordinal) && r.Contains("commit", StringComparison.Ordinal));
        foreach (var follower in followers)
        {
            Assert.Contains(rows, r => r.Contains($"replication → {follower}", StringComparison.Ordinal));
        }

        Assert.True(
            Array.FindIndex(rows, r => r.Contains("commit", StringComparison.Ordinal)) < Array.FindIndex(rows, r => r.Contains("append", StringComparison.Ordinal)),
            "the leader's rows come first");
    }
}
