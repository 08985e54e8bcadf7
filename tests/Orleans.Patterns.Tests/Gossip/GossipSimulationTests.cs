using Orleans.Patterns.Gossip;
using Orleans.Patterns.Gossip.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Gossip;

/// <summary>
/// The SWIM core on the seeded simulator at small N. Each test prints its seed; <c>GOSSIP_SEED</c> replays one.
/// </summary>
[Trait("Category", "Unit")]
public sealed class GossipSimulationTests(ITestOutputHelper output)
{
    private int Seed(int defaultSeed)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("GOSSIP_SEED"), out var fromEnvironment) ? fromEnvironment : defaultSeed;
        output.WriteLine($"seed={seed} (replay with GOSSIP_SEED={seed})");
        return seed;
    }

    [Fact]
    public void Every_live_member_learns_every_update_despite_loss()
    {
        var seed = Seed(11);
        var simulation = new GossipSimulation(60, seed, new SwimOptions(), new GossipNetwork { Loss = 0.05 });
        simulation.RunFor(TimeSpan.FromSeconds(2));
        var updaters = simulation.Members.Take(5).ToList();
        foreach (var member in updaters)
        {
            member.Node.UpdateMetadata(member.Node.Self.WithTags([new("version", "2")]));
        }

        var learnt = simulation.RunUntil(
            () => simulation.Members.All(m => updaters.All(u => m.Node.StatusOf(u.Name)!.Value.Incarnation == 1)),
            TimeSpan.FromSeconds(30));
        Assert.True(learnt, $"not every member learnt all five updates by {simulation.Now}");
        output.WriteLine($"all 60 members knew all 5 updates at {simulation.Now.TotalSeconds:0.00} s; {simulation.MessagesSent} messages");
    }

    [Fact]
    public void A_crashed_member_is_declared_dead_by_every_survivor()
    {
        var seed = Seed(12);
        foreach (var lifeguard in new[] { true, false })
        {
            var simulation = new GossipSimulation(40, seed, new SwimOptions { Lifeguard = lifeguard }, new GossipNetwork { Loss = 0.01 });
            simulation.RunFor(TimeSpan.FromSeconds(2));
            var victim = simulation.Members[17];
            simulation.Crash(victim);
            var detected = simulation.RunUntil(
                () => simulation.Members.Where(m => !m.Crashed).All(m => m.Node.StatusOf(victim.Name)?.State == MemberState.Dead),
                TimeSpan.FromSeconds(60));
            Assert.True(detected, $"lifeguard={lifeguard}: not every survivor declared {victim.Name} dead by {simulation.Now}");
            output.WriteLine($"lifeguard={lifeguard}: all survivors saw {victim.Name} dead {(simulation.Now - TimeSpan.FromSeconds(2)).TotalSeconds:0.00} s after the crash");
        }
    }

    [Fact]
    public void No_false_deaths_when_a_tenth_of_the_members_stall_2_to_5_seconds_under_lifeguard()
    {
        var seed = Seed(13);
        var result = GossipExperiment.Run(new GossipScenario
        {
            Members = 100,
            Seed = seed,
            StallFraction = 0.1,
            Crashes = 1,
            Duration = TimeSpan.FromSeconds(45),
        }, lifeguard: true);
        output.WriteLine($"stall suspicions {result.StallSuspicions}, false suspicions {result.FalseSuspicions}, false deaths {result.FalseDeaths}, " +
            $"crash detected p50 {GossipScenarioResult.Percentile(result.Detection, 50).TotalSeconds:0.00} s");
        Assert.True(result.StallSuspicions > 0, "the stalls should have been noticed, or the scenario tests nothing");
        Assert.Equal(0, result.FalseDeaths);
        Assert.Equal(0, result.FalselyDeadMembers);
        Assert.Equal(0, result.Undetected);
    }

    [Fact]
    public void A_seed_replays_a_run_exactly()
    {
        var scenario = new GossipScenario { Members = 50, Seed = Seed(14), StallFraction = 0.1, Loss = 0.02, Duration = TimeSpan.FromSeconds(25) };
        var first = GossipExperiment.Run(scenario, lifeguard: true);
        var second = GossipExperiment.Run(scenario, lifeguard: true);
        Assert.Equal(first.Messages, second.Messages);
        Assert.Equal(first.Informed, second.Informed);
        Assert.Equal(first.Detection, second.Detection);
        Assert.Equal(first.StallSuspicions, second.StallSuspicions);
    }

    [Fact]
    public void A_stalled_member_reads_its_backlog_when_it_resumes_and_refutes()
    {
        var simulation = new GossipSimulation(20, Seed(15), new SwimOptions(), new GossipNetwork());
        simulation.RunFor(TimeSpan.FromSeconds(2));
        var sleeper = simulation.Members[3];
        simulation.Stall(sleeper, TimeSpan.FromSeconds(4));
        simulation.RunFor(TimeSpan.FromSeconds(3.9));
        Assert.Contains(simulation.Members, m => m.Node.StatusOf(sleeper.Name)?.State == MemberState.Suspect);
        Assert.Equal(0, sleeper.Node.Incarnation);

        simulation.RunFor(TimeSpan.FromSeconds(3));
        Assert.True(sleeper.Node.Incarnation >= 1);
        Assert.All(simulation.Members, m => Assert.Equal(MemberState.Alive, m.Node.StatusOf(sleeper.Name)!.Value.State));
    }
}
