using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

[Trait("Category", "Unit")]
public sealed class SwimNodeTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>Ticks <paramref name="node"/> until it sends a ping; returns the ping and the time.</summary>
    private static (Ping Ping, TimeSpan At) NextPing(SwimTestGroup group, SwimNode node, TimeSpan from)
    {
        for (var now = from; now < from + TimeSpan.FromSeconds(10); now += Ms(10))
        {
            if (group.Tick(node, now).OfType<Ping>().FirstOrDefault() is { } ping)
            {
                return (ping, now);
            }
        }

        throw new InvalidOperationException($"{node.Name} sent no ping within 10 s of {from}");
    }

    [Fact]
    public void A_probe_that_is_acked_leaves_everyone_alive()
    {
        var group = new SwimTestGroup(3);
        var prober = group["n1"];
        var (ping, at) = NextPing(group, prober, TimeSpan.Zero);
        var ack = Assert.IsType<Ack>(Assert.Single(group.Deliver(ping, at)));
        Assert.Equal((ping.To, prober.Name, ping.Sequence), (ack.From, ack.To, ack.Sequence));
        group.Deliver(ack, at + Ms(1));

        // Past the probe's deadline nothing is suspected and no ping-req goes out.
        for (var t = 100; t < 1000; t += 100)
        {
            Assert.DoesNotContain(group.Tick(prober, at + Ms(t)), m => m is PingReq);
        }

        Assert.DoesNotContain(group.Events, e => e.Change == MembershipChange.Suspected);
        Assert.Equal(0, prober.LocalHealth);
    }

    [Fact]
    public void Probe_targets_go_round_robin_every_member_once_per_pass()
    {
        var group = new SwimTestGroup(6);
        var prober = group["n1"];
        var now = TimeSpan.Zero;
        var targets = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var (ping, at) = NextPing(group, prober, now);
            targets.Add(ping.To);
            group.DeliverAll([ping], at);
            now = at + Ms(10);
        }

        // Two passes over the five others, each a permutation (SWIM §4.3).
        Assert.Equal(5, targets.Take(5).Distinct().Count());
        Assert.Equal(5, targets.Skip(5).Distinct().Count());
    }

    [Fact]
    public void A_missed_ack_sends_ping_reqs_and_an_intermediary_relays_the_answer()
    {
        var group = new SwimTestGroup(5);
        var prober = group["n1"];
        var (ping, at) = NextPing(group, prober, TimeSpan.Zero);

        // The direct ping is lost; at the probe timeout k = 3 others are asked, with nacks wanted (Lifeguard).
        var requests = group.Tick(prober, at + group.Options.ProbeTimeout).OfType<PingReq>().ToList();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal((ping.To, ping.Sequence, true), (r.Target, r.Sequence, r.WantNack)));
        Assert.DoesNotContain(requests, r => r.To == ping.To || r.To == prober.Name);

        var relayed = Assert.IsType<Ping>(Assert.Single(group.Deliver(requests[0], at + Ms(501))));
        Assert.Equal(ping.To, relayed.To);
        var targetAck = Assert.IsType<Ack>(Assert.Single(group.Deliver(relayed, at + Ms(502))));
        var forwarded = Assert.IsType<Ack>(Assert.Single(group.Deliver(targetAck, at + Ms(503))));
        Assert.Equal((requests[0].To, prober.Name, ping.Sequence), (forwarded.From, forwarded.To, forwarded.Sequence));
        group.Deliver(forwarded, at + Ms(504));

        group.Tick(prober, at + Second);
        Assert.DoesNotContain(group.Events, e => e.Change == MembershipChange.Suspected);
    }

    [Fact]
    public void An_intermediary_that_hears_nothing_sends_a_nack_at_80_percent_of_the_probe_timeout()
    {
        var group = new SwimTestGroup(3);
        var intermediary = group["n2"];
        var request = new PingReq("n1", "n2", 42, "n3", WantNack: true);
        Assert.IsType<Ping>(Assert.Single(group.Deliver(request, Second)));
        Assert.DoesNotContain(group.Tick(intermediary, Second + Ms(399)), m => m is Nack);
        var nack = Assert.IsType<Nack>(Assert.Single(group.Tick(intermediary, Second + Ms(400)), m => m is Nack));
        Assert.Equal(("n2", "n1", 42L), (nack.From, nack.To, nack.Sequence));
    }

    [Fact]
    public void A_failed_probe_raises_a_suspicion_and_the_suspect_refutes_with_a_higher_incarnation()
    {
        var group = new SwimTestGroup(4);
        var prober = group["n1"];
        var (ping, at) = NextPing(group, prober, TimeSpan.Zero);
        var target = group[ping.To];

        // Nothing reaches the target; intermediaries answer nack, so the fault is the target's (no health penalty).
        var requests = group.Tick(prober, at + Ms(500)).OfType<PingReq>().ToList();
        foreach (var request in requests)
        {
            group.Deliver(request, at + Ms(501));
            foreach (var nack in group.Tick(group[request.To], at + Ms(950)).OfType<Nack>())
            {
                group.Deliver(nack, at + Ms(951));
            }
        }

        var afterDeadline = group.Tick(prober, at + Second);
        var suspected = Assert.Single(group.Events, e => e.Change == MembershipChange.Suspected);
        Assert.Equal((target.Name, new MemberStatus(0, MemberState.Suspect), true), (suspected.Member, suspected.Status, suspected.RaisedHere));
        Assert.Equal(0, prober.LocalHealth);
        Assert.Equal(new MemberStatus(0, MemberState.Suspect), prober.StatusOf(target.Name));

        // The next message the prober sends carries the suspicion; when it reaches the target, the target refutes.
        var carrier = afterDeadline.Concat(group.Tick(prober, at + Ms(1100))).First(m => m.Updates.Any(u => u.Member.Name == target.Name));
        var suspicion = Assert.Single(carrier.Updates, u => u.Member.Name == target.Name);
        Assert.Equal((MemberState.Suspect, "n1"), (suspicion.State, suspicion.From));
        target.Receive(new GossipPush("n1", target.Name) { Updates = [suspicion] }, at + Ms(1100));
        Assert.Equal(1, target.Incarnation);
        Assert.Equal(1, target.LocalHealth);

        // The refutation spreads with the target's next message and clears the suspicion.
        var refutation = group.Drain(target).Concat(group.Tick(target, at + Ms(1300))).SelectMany(m => m.Updates)
            .First(u => u.Member.Name == target.Name);
        Assert.Equal(new MemberStatus(1, MemberState.Alive), refutation.Status);
        prober.Receive(new GossipPush(target.Name, "n1") { Updates = [refutation] }, at + Ms(1400));
        group.Drain(prober);
        Assert.Equal(new MemberStatus(1, MemberState.Alive), prober.StatusOf(target.Name));
        Assert.Contains(group.Events, e => e.Member == target.Name && e.Change == MembershipChange.Recovered);
    }

    [Fact]
    public void Plain_swim_declares_a_silent_member_dead_after_the_fixed_suspicion_timeout()
    {
        // N = 4: timeout = 4 × max(1, log10 4) × 1 s = 4 s.
        var group = new SwimTestGroup(4, new SwimOptions { Lifeguard = false });
        var prober = group["n1"];
        var (ping, at) = NextPing(group, prober, TimeSpan.Zero);
        var deadline = at + Second;
        group.Tick(prober, at + Ms(500));
        group.Tick(prober, deadline);
        Assert.Equal(MemberState.Suspect, prober.StatusOf(ping.To)!.Value.State);

        group.Tick(prober, deadline + TimeSpan.FromSeconds(4) - Ms(1));
        Assert.Equal(MemberState.Suspect, prober.StatusOf(ping.To)!.Value.State);
        group.Tick(prober, deadline + TimeSpan.FromSeconds(4));
        Assert.Equal(MemberState.Dead, prober.StatusOf(ping.To)!.Value.State);
        var dead = Assert.Single(group.Events, e => e.Change == MembershipChange.Dead);
        Assert.True(dead.RaisedHere);
        Assert.Equal(2, prober.LiveMembers - 1);
    }

    [Fact]
    public void Lifeguard_suspicion_timeout_shrinks_from_max_to_min_with_confirmations()
    {
        // min 10 s, max 60 s, K = 2: timeout(C) = max(min, max - (max - min) log(C + 1) / log(K + 1)).
        var min = TimeSpan.FromSeconds(10);
        var suspicion = new Suspicion(0, "a", TimeSpan.Zero, min, min * 6, 2);
        Assert.Equal(TimeSpan.FromSeconds(60), suspicion.Deadline);
        Assert.False(suspicion.Confirm("a"));
        Assert.True(suspicion.Confirm("b"));
        Assert.False(suspicion.Confirm("b"));
        var afterOne = 60_000 - (50_000 * Math.Log(2) / Math.Log(3));
        Assert.Equal(Math.Floor(afterOne), suspicion.Deadline.TotalMilliseconds);
        Assert.True(suspicion.Confirm("c"));
        Assert.Equal(min, suspicion.Deadline);
        Assert.False(suspicion.Confirm("d"));
    }

    [Fact]
    public void Lifeguard_holds_a_lone_suspicion_for_the_longest_time()
    {
        // N = 4 gives K = min(α - 2, N - 2) = 2 expected confirmations; with none, the timeout is β × min = 24 s.
        // Only the prober runs here, so no nack comes back; it must suspect all the same for the timeline to start.
        var group = new SwimTestGroup(4, new SwimOptions { DoubtSelfWithoutNacks = false });
        var prober = group["n1"];
        var (ping, at) = NextPing(group, prober, TimeSpan.Zero);
        TickEvery(group, prober, at, at + TimeSpan.FromSeconds(24));
        Assert.Equal(MemberState.Suspect, prober.StatusOf(ping.To)!.Value.State);

        // Two other members confirm: the timeout drops to min (4 s), already past.
        var member = new Member(ping.To, $"10.0.0.{ping.To[1..]}:11111");
        foreach (var from in group.Nodes.Select(n => n.Name).Where(n => n != "n1" && n != ping.To))
        {
            prober.Receive(new GossipPush(from, "n1") { Updates = [new MemberUpdate(member, 0, MemberState.Suspect, from)] }, at + TimeSpan.FromSeconds(24));
        }

        // The end is past, but the suspect first gets a last call and a probe timeout to answer it.
        var lastCall = Assert.Single(group.Tick(prober, at + TimeSpan.FromSeconds(24) + Ms(1)).OfType<Ping>(), p => p.To == ping.To);
        Assert.Contains(lastCall.Updates, u => u.Member.Name == ping.To && u.State == MemberState.Suspect);
        TickEvery(group, prober, at + TimeSpan.FromSeconds(24) + Ms(100), at + TimeSpan.FromSeconds(24) + Ms(400));
        Assert.Equal(MemberState.Suspect, prober.StatusOf(ping.To)!.Value.State);
        group.Tick(prober, at + TimeSpan.FromSeconds(24) + Ms(501));
        Assert.Equal(MemberState.Dead, prober.StatusOf(ping.To)!.Value.State);
    }

    /// <summary>Ticks every 100 ms, as a host's timer would; a long jump would look like a pause to Lifeguard.</summary>
    private static void TickEvery(SwimTestGroup group, SwimNode node, TimeSpan from, TimeSpan to)
    {
        for (var now = from; now <= to; now += Ms(100))
        {
            group.Tick(node, now);
        }
    }

    [Theory]
    [InlineData(1, MemberState.Alive, 0, MemberState.Suspect, true)]
    [InlineData(1, MemberState.Alive, 1, MemberState.Suspect, false)]
    [InlineData(1, MemberState.Suspect, 1, MemberState.Alive, true)]
    [InlineData(2, MemberState.Suspect, 1, MemberState.Suspect, true)]
    [InlineData(1, MemberState.Suspect, 1, MemberState.Suspect, false)]
    [InlineData(1, MemberState.Dead, 1, MemberState.Suspect, true)]
    [InlineData(0, MemberState.Dead, 1, MemberState.Alive, false)]
    [InlineData(2, MemberState.Alive, 1, MemberState.Dead, true)]
    public void Incarnation_precedence_follows_swim(int i, MemberState a, int j, MemberState b, bool overrides) =>
        Assert.Equal(overrides, new MemberStatus(i, a).Supersedes(new MemberStatus(j, b)));

    [Fact]
    public void A_stale_suspicion_is_ignored_and_the_sender_is_told_the_newer_entry()
    {
        var group = new SwimTestGroup(3);
        var node = group["n1"];
        var n2 = new Member("n2", "10.0.0.2:11111");
        node.Receive(new GossipPush("n2", "n1") { Updates = [new MemberUpdate(n2, 3, MemberState.Alive)] }, Second);
        group.Drain(node);
        node.Receive(new GossipPush("n3", "n1") { Updates = [new MemberUpdate(n2, 2, MemberState.Suspect, "n3")] }, Second);
        Assert.Equal(new MemberStatus(3, MemberState.Alive), node.StatusOf("n2"));
        var correction = Assert.IsType<GossipPush>(Assert.Single(group.Drain(node)));
        Assert.Equal("n3", correction.To);
        Assert.Equal(new MemberStatus(3, MemberState.Alive), Assert.Single(correction.Updates).Status);
    }

    [Fact]
    public void Gossip_messages_carry_an_update_only_its_first_sends_and_probe_traffic_carries_the_rest()
    {
        // N = 20: limit = 4 × ⌈log10 21⌉ = 8 sends, of which GossipTransmits = 4 may go in gossip messages of their own.
        var group = new SwimTestGroup(20);
        var node = group["n1"];
        group.Drain(node);
        var x = new Member("x", "10.0.1.1:1");
        node.Receive(new GossipPush("n2", "n1") { Updates = [new MemberUpdate(x, 0, MemberState.Alive)] }, Ms(1));

        // Ticking for 3 s: gossip rounds every 200 ms to 3 members; probes each second, whose pings and ping-reqs
        // (nobody answers here) piggyback too.
        var carriers = new List<SwimMessage>();
        for (var t = 200; t <= 3000; t += 200)
        {
            carriers.AddRange(group.Tick(node, Ms(t)).Where(m => m.Updates.Any(u => u.Member.Name == "x")));
        }

        // Eight sends in all; gossip messages of their own only among the first four, probe traffic the rest.
        Assert.Equal(8, carriers.Count);
        Assert.Equal(0, node.PendingBroadcasts);
        Assert.InRange(carriers.Count(m => m is GossipPush), 3, 4);
        Assert.DoesNotContain(carriers.Skip(4), m => m is GossipPush);
        Assert.All(carriers.Skip(4), m => Assert.True(m is Ping or PingReq, $"{m.GetType().Name} after the gossip budget"));
    }

    [Fact]
    public void An_update_is_piggybacked_at_most_the_retransmit_limit_times_and_at_most_max_per_message()
    {
        // N = 3: limit = 4 × ⌈log10 4⌉ = 4.
        var group = new SwimTestGroup(3, new SwimOptions { MaxUpdatesPerMessage = 2 });
        var node = group["n1"];
        node.UpdateMetadata(node.Self.WithTags([new("zone", "b")]));
        var extra = Enumerable.Range(10, 3).Select(i => new Member($"x{i}", "10.0.1.1:1")).ToList();
        node.Receive(new GossipPush("n2", "n1") { Updates = [.. extra.Select(m => new MemberUpdate(m, 0, MemberState.Alive))] }, Ms(1));
        group.Drain(node);

        var carried = new List<MemberUpdate>();
        for (var i = 0; i < 20; i++)
        {
            var ack = group.Deliver(new Ping("n2", "n1", i), Ms(10 + i)).Single();
            Assert.True(ack.Updates.Count <= 2);
            carried.AddRange(ack.Updates);
        }

        // Four updates (own metadata + three joins), each sent exactly 4 times, then the queue is empty.
        Assert.Equal(16, carried.Count);
        Assert.All(carried.GroupBy(u => u.Member.Name), g => Assert.Equal(4, g.Count()));
        Assert.Equal(0, node.PendingBroadcasts);
    }

    [Fact]
    public void Push_pull_merges_full_states_both_ways()
    {
        var options = new SwimOptions();
        var a = new SwimNode(new Member("a", "1"), options, new Random(1), TimeSpan.Zero);
        var b = new SwimNode(new Member("b", "2"), options, new Random(2), TimeSpan.Zero);
        a.Bootstrap([new Member("x", "3")]);
        b.Bootstrap([new Member("y", "4")]);
        a.Receive(new GossipPush("b", "a") { Updates = [new MemberUpdate(new Member("x", "3"), 5, MemberState.Suspect, "b")] }, Second);
        a.GetReady();
        b.Join(["a"]);
        var request = Assert.IsType<PushPull>(Assert.Single(b.GetReady().Messages));
        Assert.True(request.Join);
        a.Receive(request, Second);
        var reply = Assert.IsType<PushPull>(Assert.Single(a.GetReady().Messages, m => m is PushPull));
        Assert.True(reply.IsReply);
        b.Receive(reply, Second);

        foreach (var node in new[] { a, b })
        {
            Assert.Equal(["a", "b", "x", "y"], node.View().Entries.Keys);
            Assert.Equal(new MemberStatus(5, MemberState.Suspect), node.StatusOf("x"));
        }
    }

    [Fact]
    public void Local_health_rises_on_missed_nacks_and_slows_probing()
    {
        var group = new SwimTestGroup(5);
        var prober = group["n1"];
        var (_, at) = NextPing(group, prober, TimeSpan.Zero);

        // Nothing answers at all, not even the intermediaries: three missing nacks, LHM 0 -> 3.
        group.Tick(prober, at + Ms(500));
        var second = Assert.Single(group.Tick(prober, at + Second).OfType<Ping>());
        Assert.Equal(3, prober.LocalHealth);

        // Probe timeout and interval scale by LHM + 1 = 4 (Lifeguard §IV-A): ping-req at 2 s, next probe at 4 s.
        var start = at + Second;
        for (var t = 100; t < 4000; t += 100)
        {
            var sent = group.Tick(prober, start + Ms(t));
            Assert.Equal(t == 2000, sent.Any(m => m is PingReq));
            Assert.DoesNotContain(sent, m => m is Ping);
        }

        var third = Assert.Single(group.Tick(prober, start + Ms(4000)).OfType<Ping>());
        Assert.Equal(6, prober.LocalHealth);
        Assert.NotEqual(second.Sequence, third.Sequence);

        // A successful probe lowers it again.
        group.DeliverAll([third], start + Ms(4001));
        Assert.Equal(5, prober.LocalHealth);
    }

    [Fact]
    public void A_probe_that_hears_no_nack_blames_the_prober_not_the_target()
    {
        var group = new SwimTestGroup(5);
        var prober = group["n1"];
        var (ping, at) = NextPing(group, prober, TimeSpan.Zero);

        // The prober's ping-reqs go out but nothing at all comes back: it is the one cut off, or too slow to read.
        Assert.Equal(3, group.Tick(prober, at + Ms(500)).OfType<PingReq>().Count());
        group.Tick(prober, at + Second);
        Assert.DoesNotContain(group.Events, e => e.Change == MembershipChange.Suspected);
        Assert.Equal(MemberState.Alive, prober.StatusOf(ping.To)!.Value.State);
        Assert.Equal(3, prober.LocalHealth);

        // The same silence with the option off accuses the target, as Lifeguard and memberlist do.
        var plain = new SwimTestGroup(5, new SwimOptions { DoubtSelfWithoutNacks = false });
        var (plainPing, plainAt) = NextPing(plain, plain["n1"], TimeSpan.Zero);
        plain.Tick(plain["n1"], plainAt + Ms(500));
        plain.Tick(plain["n1"], plainAt + Second);
        Assert.Equal(MemberState.Suspect, plain["n1"].StatusOf(plainPing.To)!.Value.State);
    }

    [Fact]
    public void A_member_woken_long_after_its_deadline_does_not_blame_its_peers()
    {
        var group = new SwimTestGroup(4);
        var prober = group["n1"];
        var (ping, at) = NextPing(group, prober, TimeSpan.Zero);

        // Paused for 3 s with the probe in flight: the ack may be in its backlog. No suspicion, LHM + 1.
        group.Tick(prober, at + TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(group.Events, e => e.Change == MembershipChange.Suspected);
        Assert.Equal(1, prober.LocalHealth);
        Assert.Equal(MemberState.Alive, prober.StatusOf(ping.To)!.Value.State);
    }

    [Fact]
    public void Joining_through_a_seed_spreads_the_new_member_to_everyone()
    {
        var group = new SwimTestGroup(4);
        var joiner = group.Add(new SwimNode(new Member("n9", "10.0.0.9:11111"), group.Options, new Random(9), Second));
        joiner.Join(["n2"]);
        var request = joiner.GetReady().Messages.Single();
        var reply = group.Deliver(request, Second).OfType<PushPull>().Single();
        joiner.Receive(reply, Second);
        Assert.Equal(5, joiner.LiveMembers);
        Assert.Contains(group.Events, e => e.Member == "n9" && e.Change == MembershipChange.Joined);

        group.Run(Second, TimeSpan.FromSeconds(5), Ms(100));
        Assert.All(group.Nodes, n => Assert.Equal(new MemberStatus(0, MemberState.Alive), n.StatusOf("n9")));
    }

    [Fact]
    public void Bad_options_name_the_option_and_value()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SwimNode(new Member("a", "1"), new SwimOptions { ProbeTimeout = TimeSpan.FromSeconds(2) }, new Random(1), TimeSpan.Zero));
        Assert.Equal("ProbeTimeout", error.ParamName);
        Assert.Contains("got 00:00:02", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SwimOptions { GossipFanout = -1 }.Validate());
    }
}
