using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

/// <summary>
/// Signals from the host: a suspicion raised outside SWIM (the watchdog's conviction) behaves as one raised by a failed
/// probe, and a graceful leave reaches the others as a death at once.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SwimHostSignalTests
{
    [Fact]
    public void A_reported_member_is_suspected_once_and_the_suspicion_is_announced()
    {
        var node = new SwimNode(new Member("a", "a:1"), new SwimOptions(), new Random(1), TimeSpan.Zero);
        node.Bootstrap([new Member("b", "b:1"), new Member("c", "c:1")]);
        node.GetReady();

        Assert.True(node.ReportSuspect("b"));
        Assert.Equal(MemberState.Suspect, node.StatusOf("b")?.State);
        var ready = node.GetReady();
        Assert.Contains(ready.Events, e => e.Member == "b" && e.Change == MembershipChange.Suspected && e.RaisedHere);

        Assert.False(node.ReportSuspect("b")); // already suspected
        Assert.False(node.ReportSuspect("a")); // itself
        Assert.False(node.ReportSuspect("nobody"));
        Assert.Equal(MemberState.Alive, node.StatusOf("c")?.State);
    }

    [Fact]
    public void The_reported_suspicion_becomes_a_death_when_nobody_refutes_it()
    {
        var options = new SwimOptions();
        var node = new SwimNode(new Member("a", "a:1"), options, new Random(1), TimeSpan.Zero);
        node.Bootstrap([new Member("b", "b:1"), new Member("c", "c:1")]);
        node.ReportSuspect("b");
        for (var t = TimeSpan.Zero; t < TimeSpan.FromMinutes(2) && node.StatusOf("b")?.State != MemberState.Dead; t += TimeSpan.FromMilliseconds(100))
        {
            node.Tick(t);
            node.GetReady();
        }

        Assert.Equal(MemberState.Dead, node.StatusOf("b")?.State);
    }

    [Fact]
    public void A_leaving_member_pushes_its_own_death_to_the_fanout_and_then_falls_silent()
    {
        var options = new SwimOptions();
        var a = new SwimNode(new Member("a", "a:1"), options, new Random(1), TimeSpan.Zero, incarnation: 7);
        a.Bootstrap([.. Enumerable.Range(0, 10).Select(i => new Member($"m{i}", $"m{i}:1"))]);
        a.GetReady();

        a.Leave();
        Assert.True(a.HasLeft);
        var farewells = a.GetReady().Messages.Cast<GossipPush>().ToList();
        Assert.Equal(options.GossipFanout, farewells.Select(m => m.To).Distinct().Count());
        Assert.All(farewells, m => Assert.Equal(new MemberUpdate(a.Self, 7, MemberState.Dead), Assert.Single(m.Updates)));

        // Silent afterwards: no probes, no answers, no refutation of its own death.
        a.Tick(TimeSpan.FromSeconds(10));
        a.Receive(new Ping("m0", "a", 1) { Updates = [new MemberUpdate(a.Self, 7, MemberState.Dead)] }, TimeSpan.FromSeconds(10));
        Assert.False(a.HasReady);

        // A receiver takes the farewell as a death, and spreads it.
        var b = new SwimNode(new Member(farewells[0].To, "b:1"), options, new Random(2), TimeSpan.Zero);
        b.Bootstrap([a.Self]);
        b.GetReady();
        b.Receive(farewells[0], TimeSpan.FromMilliseconds(5));
        Assert.Equal(new MemberStatus(7, MemberState.Dead), b.StatusOf("a"));
        Assert.Contains(b.GetReady().Events, e => e.Member == "a" && e.Change == MembershipChange.Dead);
    }
}
