using System.Diagnostics;
using System.Threading.Channels;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Recipes;

/// <summary>The etcd-style election on real silos: campaign, proclaim, observe, resign, and a leader whose lease dies.</summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class LeaderElectionClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Candidates_campaign_proclaim_resign_and_observers_see_each_leader()
    {
        var options = new LeaderElectionOptions { Prefix = RecipePrefix.New("election") + "leader", SessionTtl = TimeSpan.FromSeconds(5) };
        using var timeout = new CancellationTokenSource(Deadline);
        var observer = new LeaderElection(fixture.NewClient("observer"), options);
        Assert.Null(await observer.LeaderAsync(timeout.Token));
        var seen = Channel.CreateUnbounded<LeaderInfo>();
        using var stopObserving = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var observing = Task.Run(async () =>
        {
            await foreach (var leader in observer.ObserveAsync(stopObserving.Token))
            {
                await seen.Writer.WriteAsync(leader);
            }
        });

        await using var a = await new LeaderElection(fixture.NewClient("cand-a"), options).CampaignAsync("a:1", timeout.Token);
        var first = await seen.Reader.ReadAsync(timeout.Token);
        Assert.Equal(("a:1", a.FencingToken, a.Key), (first.Value, first.FencingToken, first.Key));

        var electionB = new LeaderElection(fixture.NewClient("cand-b"), options);
        var campaignB = electionB.CampaignAsync("b:1", timeout.Token);
        await a.ProclaimAsync("a:2", timeout.Token);
        Assert.Equal("a:2", (await observer.LeaderAsync(timeout.Token))!.Value);
        Assert.Equal("a:2", (await NextAsync(seen, l => l.Value != "a:1", timeout.Token)).Value);
        Assert.False(campaignB.IsCompleted, "B was elected while A led");

        await a.ResignAsync(timeout.Token);
        await using var b = await campaignB;
        output.WriteLine($"A token {a.FencingToken}, B token {b.FencingToken}");
        Assert.True(b.FencingToken > a.FencingToken);
        var third = await NextAsync(seen, l => l.Key != a.Key, timeout.Token);
        Assert.Equal(("b:1", b.FencingToken), (third.Value, third.FencingToken));
        await Assert.ThrowsAsync<LeadershipLostException>(() => a.ProclaimAsync("a:3", timeout.Token));

        await b.ResignAsync(timeout.Token);
        Assert.Null(await observer.LeaderAsync(timeout.Token));
        await stopObserving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => observing);
    }

    [Fact]
    public async Task A_leader_whose_session_dies_loses_to_the_next_candidate_with_a_larger_token()
    {
        var options = new LeaderElectionOptions { Prefix = RecipePrefix.New("election-failover") + "leader", SessionTtl = TimeSpan.FromSeconds(5) };
        using var timeout = new CancellationTokenSource(Deadline);
        var clientA = fixture.NewClient("dying-leader");
        await using var sessionA = await LeaseSession.StartAsync(clientA, TimeSpan.FromSeconds(2));
        var electionA = new LeaderElection(clientA, options);
        var a = await electionA.CampaignAsync(sessionA, "a", timeout.Token);
        var electionB = new LeaderElection(fixture.NewClient("next-leader"), options);
        var campaignB = electionB.CampaignAsync("b", timeout.Token);

        sessionA.PauseKeepAlives();
        var paused = Stopwatch.StartNew();
        await using var b = await campaignB;
        output.WriteLine($"B elected {paused.Elapsed.TotalSeconds:F1} s after A stopped renewing; tokens A {a.FencingToken}, B {b.FencingToken}");
        Assert.True(b.FencingToken > a.FencingToken);
        var leader = await electionA.LeaderAsync(timeout.Token);
        Assert.Equal(("b", b.FencingToken), (leader!.Value, leader.FencingToken));
        var refused = await Assert.ThrowsAsync<LeadershipLostException>(() => a.ProclaimAsync("a again", timeout.Token));
        Assert.Contains(a.Key, refused.Message);
    }

    private static async Task<LeaderInfo> NextAsync(Channel<LeaderInfo> seen, Func<LeaderInfo, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = await seen.Reader.ReadAsync(cancellationToken);
            if (match(next))
            {
                return next;
            }
        }
    }
}
