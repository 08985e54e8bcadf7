using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

/// <summary>A suspicion raised from outside SWIM (the watchdog's conviction) behaves as one raised by a failed probe.</summary>
[Trait("Category", "Unit")]
public sealed class SwimReportSuspectTests
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
}
