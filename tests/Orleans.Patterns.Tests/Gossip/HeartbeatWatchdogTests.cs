using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

[Trait("Category", "Unit")]
public sealed class HeartbeatWatchdogTests
{
    private static readonly string[] Silos = [.. Enumerable.Range(1, 10).Select(i => $"silo-{i}")];

    [Fact]
    public void Each_member_watches_its_k_successors_on_the_hash_ring()
    {
        var ring = Silos.OrderBy(HeartbeatWatchdog.RingPosition).ThenBy(s => s, StringComparer.Ordinal).ToList();
        foreach (var silo in Silos)
        {
            var at = ring.IndexOf(silo);
            string[] expected = [ring[(at + 1) % ring.Count], ring[(at + 2) % ring.Count], ring[(at + 3) % ring.Count]];
            Assert.Equal(expected, HeartbeatWatchdog.ChooseWatched(silo, Silos, 3));
        }
    }

    [Fact]
    public void The_choice_does_not_depend_on_the_order_members_are_listed_in()
    {
        var reversed = Silos.Reverse().ToArray();
        foreach (var silo in Silos)
        {
            Assert.Equal(HeartbeatWatchdog.ChooseWatched(silo, Silos, 3), HeartbeatWatchdog.ChooseWatched(silo, reversed, 3));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(10)]
    [InlineData(200)]
    public void Load_is_constant_every_member_watches_and_is_watched_by_k(int members)
    {
        var names = Enumerable.Range(0, members).Select(i => $"m{i}").ToArray();
        var watchers = names.ToDictionary(n => n, _ => 0);
        foreach (var name in names)
        {
            var watched = HeartbeatWatchdog.ChooseWatched(name, names, 3);
            Assert.Equal(Math.Min(3, members - 1), watched.Count);
            Assert.DoesNotContain(name, watched);
            foreach (var peer in watched)
            {
                watchers[peer]++;
            }
        }

        Assert.All(watchers.Values, count => Assert.Equal(Math.Min(3, members - 1), count));
    }

    [Fact]
    public void A_silent_peer_is_convicted_once_and_readmitted_when_it_answers()
    {
        var options = new HeartbeatWatchdogOptions { WatchedPeers = 2 };
        var watchdog = new HeartbeatWatchdog("silo-1", options, TimeSpan.Zero);
        watchdog.SetMembers(Silos.Take(3), TimeSpan.Zero);
        Assert.Equal(2, watchdog.Watched.Count);
        var (alive, silent) = (watchdog.Watched[0], watchdog.Watched[1]);

        var now = TimeSpan.Zero;
        for (var second = 1; second <= 10; second++)
        {
            now = TimeSpan.FromSeconds(second);
            watchdog.Tick(now);
            Assert.Equal(watchdog.Watched, watchdog.TakeHeartbeatRequests());
            watchdog.Heartbeat(alive, now);
            if (second <= 5)
            {
                watchdog.Heartbeat(silent, now);
            }
        }

        var convicted = Assert.Single(watchdog.TakeEvents());
        Assert.Equal(silent, convicted.Peer);
        Assert.Equal(WatchdogVerdict.Convicted, convicted.Verdict);
        Assert.True(convicted.Phi >= 8);

        // Silent 5 s after regular 1 s heartbeats: convicted between 3 and 5 s after its last one.
        Assert.InRange(convicted.At, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10));
        watchdog.Tick(now + TimeSpan.FromSeconds(1));
        Assert.Empty(watchdog.TakeEvents());

        watchdog.Heartbeat(silent, now + TimeSpan.FromSeconds(2));
        var readmitted = Assert.Single(watchdog.TakeEvents());
        Assert.Equal((silent, WatchdogVerdict.Readmitted), (readmitted.Peer, readmitted.Verdict));
        Assert.Contains(watchdog.Status(now + TimeSpan.FromSeconds(2)), p => p.Peer == silent && !p.Convicted);
    }

    [Fact]
    public void An_outage_does_not_teach_the_detector_to_wait_longer_the_next_outage_is_convicted_as_fast()
    {
        var watchdog = new HeartbeatWatchdog("silo-1", new HeartbeatWatchdogOptions { WatchedPeers = 1 }, TimeSpan.Zero);
        watchdog.SetMembers(Silos.Take(2), TimeSpan.Zero);
        var peer = Assert.Single(watchdog.Watched);

        // Regular heartbeats every second, then silence until convicted; returns the time from the last heartbeat.
        TimeSpan RunUntilConvicted(TimeSpan start)
        {
            for (var i = 1; i <= 30; i++)
            {
                watchdog.Heartbeat(peer, start + TimeSpan.FromSeconds(i));
            }

            var last = start + TimeSpan.FromSeconds(30);
            for (var t = last; t < last + TimeSpan.FromMinutes(1); t += TimeSpan.FromMilliseconds(10))
            {
                watchdog.Tick(t);
                if (watchdog.TakeEvents().SingleOrDefault(e => e.Verdict == WatchdogVerdict.Convicted) is { Peer: not null } convicted)
                {
                    return convicted.At - last;
                }
            }

            throw new InvalidOperationException("never convicted");
        }

        var first = RunUntilConvicted(TimeSpan.Zero);
        watchdog.TakeHeartbeatRequests();
        var second = RunUntilConvicted(TimeSpan.FromMinutes(5)); // its first heartbeat here re-admits it after a long outage
        Assert.Equal(first, second);
    }

    [Fact]
    public void Peers_no_longer_watched_are_dropped_and_new_ones_start_fresh()
    {
        var watchdog = new HeartbeatWatchdog("silo-1", new HeartbeatWatchdogOptions { WatchedPeers = 1 }, TimeSpan.Zero);
        watchdog.SetMembers(Silos, TimeSpan.Zero);
        var first = Assert.Single(watchdog.Watched);
        watchdog.SetMembers(Silos.Where(s => s != first), TimeSpan.FromSeconds(30));
        var second = Assert.Single(watchdog.Watched);
        Assert.NotEqual(first, second);

        // Armed at the change, not at time zero: not convicted for the 30 s before it was watched.
        watchdog.Tick(TimeSpan.FromSeconds(31));
        Assert.Empty(watchdog.TakeEvents());
    }

    [Fact]
    public void Bad_options_name_the_option()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HeartbeatWatchdog("a", new HeartbeatWatchdogOptions { WatchedPeers = 0 }, TimeSpan.Zero));
        Assert.Equal("WatchedPeers", error.ParamName);
        Assert.Contains("got 0", error.Message, StringComparison.Ordinal);
    }
}
