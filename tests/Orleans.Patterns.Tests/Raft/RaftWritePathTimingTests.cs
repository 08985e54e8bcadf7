using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Telemetry;

namespace Orleans.Patterns.Tests.Raft;

[Trait("Category", "Unit")]
public sealed class AppendTimerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<(string Peer, TimeSpan Elapsed)> _closed = [];

    private void Cover(AppendTimer timer, string peer, long matchIndex) =>
        timer.Covered(peer, matchIndex, (this, peer), static (state, elapsed) => state.Item1._closed.Add((state.Item2, elapsed)));

    [Fact]
    public void An_answer_closes_every_append_it_covers_each_timed_from_its_own_start_and_no_other()
    {
        var timer = new AppendTimer(_time);
        timer.Start("silo-2", 5);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        timer.Start("silo-2", 8);
        timer.Start("silo-3", 8);
        _time.Advance(TimeSpan.FromMilliseconds(2));

        Cover(timer, "silo-2", 7); // covers 5, not 8
        Assert.Equal([("silo-2", TimeSpan.FromMilliseconds(3))], _closed);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Cover(timer, "silo-2", 8);
        Cover(timer, "silo-3", 8);
        Cover(timer, "silo-3", 8); // a duplicate answer closes nothing more
        Assert.Equal(
            [("silo-2", TimeSpan.FromMilliseconds(3)), ("silo-2", TimeSpan.FromMilliseconds(3)), ("silo-3", TimeSpan.FromMilliseconds(3))],
            _closed);
    }

    [Fact]
    public void A_resend_of_open_entries_keeps_the_first_start()
    {
        var timer = new AppendTimer(_time);
        timer.Start("silo-2", 4);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        timer.Start("silo-2", 4); // retried after a lost message
        timer.Start("silo-2", 3); // or from further back, after a rejection
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Cover(timer, "silo-2", 4);
        Assert.Equal([("silo-2", TimeSpan.FromMilliseconds(6))], _closed);
    }

    [Fact]
    public void Past_its_capacity_a_peer_forgets_its_oldest_unanswered_append_and_clear_forgets_all()
    {
        var timer = new AppendTimer(_time, capacityPerPeer: 2);
        timer.Start("silo-2", 1);
        timer.Start("silo-2", 2);
        timer.Start("silo-2", 3); // index 1 is dropped: never answered, so not a measurement
        Cover(timer, "silo-2", 3);
        Assert.Equal(2, _closed.Count);

        timer.Start("silo-2", 4);
        timer.Clear();
        Cover(timer, "silo-2", 4);
        timer.Start("silo-2", 2); // after a clear, indexes may start lower (a new term's log)
        Cover(timer, "silo-2", 2);
        Assert.Equal(3, _closed.Count);
    }
}

[Trait("Category", "Unit")]
public sealed class LatencyWindowTests
{
    [Fact]
    public void Percentiles_are_nearest_rank_over_the_most_recent_durations_only()
    {
        var window = new LatencyWindow(capacity: 100);
        Assert.Null(window.Summarize());

        // 1..100 ms, then 100 more of 1000 ms that push every earlier one out of the ring.
        for (var ms = 1; ms <= 100; ms++)
        {
            window.Add(TimeSpan.FromMilliseconds(ms));
        }

        Assert.Equal((100, 50.0, 90.0, 99.0, 100.0), window.Summarize());

        for (var i = 0; i < 99; i++)
        {
            window.Add(TimeSpan.FromMilliseconds(1000));
        }

        Assert.Equal((100, 1000.0, 1000.0, 1000.0, 1000.0), window.Summarize()); // only 100 ms of the first run is left
        window.Add(TimeSpan.FromMilliseconds(1000));
        Assert.Equal((100, 1000.0, 1000.0, 1000.0, 1000.0), window.Summarize());

        window.Clear();
        Assert.Null(window.Summarize());

        var small = new LatencyWindow(capacity: 8);
        small.Add(TimeSpan.FromMilliseconds(2));
        small.Add(TimeSpan.FromMilliseconds(4));
        Assert.Equal((2, 2.0, 4.0, 4.0, 4.0), small.Summarize());
    }
}

[Trait("Category", "Unit")]
public sealed class RaftWritePathTimingsTests
{
    [Fact]
    public void A_role_change_clears_the_roles_own_stages_and_keeps_the_disks()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new PatternsMetrics(services.GetRequiredService<IMeterFactory>());
        var timings = new RaftWritePathTimings("silo-1", metrics);
        timings.Committed(TimeSpan.FromMilliseconds(2));
        timings.Replicated("silo-3", TimeSpan.FromMilliseconds(1.5));
        timings.Replicated("silo-2", TimeSpan.FromMilliseconds(1));
        timings.Persisted(TimeSpan.FromMilliseconds(0.5));
        timings.LogSynced(TimeSpan.FromMilliseconds(0.25));
        Assert.Equal(
            [("commit", null), ("replication", "silo-2"), ("replication", "silo-3"), ("persist", null), ("log sync", null)],
            timings.Snapshot().Select(s => (s.Stage, s.Peer)));

        timings.RoleChanged();
        timings.Appended(TimeSpan.FromMilliseconds(0.75));
        var stages = timings.Snapshot();
        Assert.Equal([("append", null), ("persist", null), ("log sync", null)], stages.Select(s => (s.Stage, s.Peer)));
        Assert.Equal(0.75, stages[0].P50);
    }
}
