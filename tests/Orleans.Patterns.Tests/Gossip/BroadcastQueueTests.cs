using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

[Trait("Category", "Unit")]
public sealed class BroadcastQueueTests
{
    private static MemberUpdate Update(int member, int incarnation) => new(new Member($"m{member}", "a"), incarnation, MemberState.Alive);

    [Fact]
    public void Least_sent_go_first_newest_first_among_equals_and_a_newer_update_replaces_an_older_one()
    {
        var queue = new BroadcastQueue();
        queue.Enqueue(1, Update(1, 0));
        queue.Enqueue(2, Update(2, 0));
        Assert.Equal(["m2"], queue.Take(1, 3).Select(u => u.Member.Name));
        queue.Enqueue(1, Update(1, 1));
        queue.Enqueue(3, Update(3, 0));

        // m3 and m1(1) have never been sent, m2 once; m1(0) was replaced.
        Assert.Equal(["m3", "m1"], queue.Take(2, 3).Select(u => u.Member.Name));
        // All sent once now; the last to reach that count goes first.
        Assert.Equal(["m1", "m3", "m2"], queue.Take(5, 3).Select(u => u.Member.Name));
        Assert.Equal(["m2", "m3", "m1"], queue.Take(5, 3).Select(u => u.Member.Name));
        Assert.Equal(0, queue.Count);
        Assert.Empty(queue.Take(5, 3));
    }

    [Fact]
    public void Replaced_updates_are_swept_so_the_queue_stays_bounded_by_its_members()
    {
        var queue = new BroadcastQueue();
        for (var round = 0; round < 10_000; round++)
        {
            queue.Enqueue(round % 10, Update(round % 10, round));
        }

        Assert.Equal(10, queue.Count);
        Assert.True(queue.Held <= 10 + 65 + 10, $"{queue.Held} items held for 10 live updates");
        Assert.Equal(10, queue.Take(100, 5).Length);
    }
}
