using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft;

[Trait("Category", "Unit")]
public sealed class ProposalGatheringTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(2);

    private readonly ProposalGathering<string> _gathering = new(Wait);

    private static TimeSpan Ms(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    [Fact]
    public void A_batch_with_no_round_out_goes_at_once_and_batches_that_come_while_a_round_is_out_are_held()
    {
        Assert.Equal(["a1"], _gathering.Offer("a", "a1", Ms(0)));
        Assert.True(_gathering.RoundOut);

        Assert.Empty(_gathering.Offer("b", "b1", Ms(0.1)));
        Assert.Empty(_gathering.Offer("c", "c1", Ms(0.2)));
        Assert.Equal(2, _gathering.Held);
        Assert.Null(_gathering.Deadline); // no wait runs while the round is out: the round's own commit ends the hold
        Assert.Empty(_gathering.Tick(Ms(50)));
    }

    [Fact]
    public void After_a_round_settles_the_held_batches_wait_for_its_fronts_and_all_go_together_once_every_one_is_back()
    {
        _gathering.Offer("a", "a1", Ms(0));
        _gathering.Offer("b", "b1", Ms(0.1));
        _gathering.Offer("c", "c1", Ms(0.2));

        Assert.Empty(_gathering.RoundSettled(Ms(1))); // a's round: b and c wait for a
        Assert.Equal(Ms(3), _gathering.Deadline);
        Assert.Empty(_gathering.Tick(Ms(2.9)));
        Assert.Equal(["b1", "c1", "a2"], _gathering.Offer("a", "a2", Ms(1.5)));
        Assert.Null(_gathering.Deadline);

        // Now the three are in step: the next round waits for all three, and none sooner.
        Assert.Empty(_gathering.RoundSettled(Ms(2)));
        Assert.Empty(_gathering.Offer("c", "c2", Ms(2.3)));
        Assert.Empty(_gathering.Offer("a", "a3", Ms(2.4)));
        Assert.Equal(["c2", "a3", "b2"], _gathering.Offer("b", "b2", Ms(2.5)));
        Assert.Equal((3, 7), _gathering.Released);
    }

    [Fact]
    public void When_every_front_of_the_settled_round_is_already_held_the_next_round_goes_at_the_settlement()
    {
        Assert.Equal(["a1"], _gathering.Offer("a", "a1", Ms(0)));
        Assert.Empty(_gathering.Offer("a", "a2", Ms(0.1))); // a front with two batches in flight
        Assert.Equal(["a2"], _gathering.RoundSettled(Ms(1)));
        Assert.Null(_gathering.Deadline);
    }

    [Fact]
    public void Anonymous_callers_are_never_waited_for()
    {
        Assert.Equal(["x1"], _gathering.Offer(null, "x1", Ms(0)));
        Assert.Empty(_gathering.Offer(null, "x2", Ms(0.1)));
        Assert.Equal(["x2"], _gathering.RoundSettled(Ms(1)));

        Assert.Empty(_gathering.RoundSettled(Ms(2))); // nothing to wait for, nothing held
        Assert.False(_gathering.RoundOut);
        Assert.Null(_gathering.Deadline);
        Assert.Equal(["a1"], _gathering.Offer("a", "a1", Ms(2.1)));
    }

    [Fact]
    public void Past_the_deadline_the_held_batches_go_without_the_late_front_and_it_is_not_waited_for_again_until_it_is_back_in_time()
    {
        _gathering.Offer("a", "a1", Ms(0));
        _gathering.Offer("b", "b1", Ms(0.1));
        Assert.Empty(_gathering.RoundSettled(Ms(1)));
        Assert.Equal(["b1"], _gathering.Tick(Ms(3))); // a never came back: b goes alone at the deadline

        // b's round settles; a writes again later and is held meanwhile, but is late: only b is waited for.
        Assert.Empty(_gathering.Offer("a", "a2", Ms(3.5)));
        Assert.Empty(_gathering.RoundSettled(Ms(4)));
        Assert.Equal(["a2", "b2"], _gathering.Offer("b", "b2", Ms(4.2)));

        // That round carried a, late: when it settles only b is awaited, so b's return releases the round at once.
        Assert.Empty(_gathering.RoundSettled(Ms(5)));
        Assert.Equal(Ms(7), _gathering.Deadline);
        Assert.Equal(["b3"], _gathering.Offer("b", "b3", Ms(5.3)));

        // a comes back within the wait after its round: prompt again, so the next round that carries it waits for it.
        Assert.Empty(_gathering.Offer("a", "a3", Ms(6)));
        Assert.Empty(_gathering.RoundSettled(Ms(6.5)));
        Assert.Equal(["a3", "b4"], _gathering.Offer("b", "b4", Ms(6.6)));
        Assert.Empty(_gathering.RoundSettled(Ms(7)));
        Assert.Empty(_gathering.Offer("b", "b5", Ms(7.1)));
        Assert.Equal(["b5", "a4"], _gathering.Offer("a", "a4", Ms(7.2)));
    }

    [Fact]
    public void A_batch_that_comes_after_the_deadline_before_its_timer_has_run_goes_at_once_with_the_held_ones()
    {
        _gathering.Offer("a", "a1", Ms(0));
        _gathering.Offer("b", "b1", Ms(0.1));
        Assert.Empty(_gathering.RoundSettled(Ms(1)));
        Assert.Equal(["b1", "c1"], _gathering.Offer("c", "c1", Ms(3.2)));
    }

    [Fact]
    public void A_wait_with_nothing_held_ends_at_its_deadline_and_the_next_batch_goes_at_once()
    {
        _gathering.Offer("a", "a1", Ms(0));
        Assert.Empty(_gathering.RoundSettled(Ms(1)));
        Assert.Empty(_gathering.Tick(Ms(3)));
        Assert.Null(_gathering.Deadline);
        Assert.False(_gathering.RoundOut);
        Assert.Equal(["b1"], _gathering.Offer("b", "b1", Ms(10)));
    }

    [Fact]
    public void Reset_hands_back_everything_held_and_starts_over()
    {
        _gathering.Offer("a", "a1", Ms(0));
        _gathering.Offer("b", "b1", Ms(0.1));
        _gathering.Offer("c", "c1", Ms(0.2));

        Assert.Equal(["b1", "c1"], _gathering.Reset());
        Assert.False(_gathering.RoundOut);
        Assert.Equal(0, _gathering.Held);
        Assert.Null(_gathering.Deadline);
        Assert.Equal(["a2"], _gathering.Offer("a", "a2", Ms(1)));
    }

    [Fact]
    public void Settling_without_a_round_out_and_a_wait_that_is_not_positive_are_refused()
    {
        Assert.Throws<InvalidOperationException>(() => _gathering.RoundSettled(Ms(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProposalGathering<string>(TimeSpan.Zero));
    }
}
