using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Raft.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>
/// Many seeds of every randomized scenario, with snapshots and an unreliable network. Two seeds by default, to keep
/// the suite fast; <c>RAFT_SOAK_SEEDS=500</c> explores more, and a failing seed is printed for replay with <c>RAFT_SEED</c>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RaftSoakTests(ITestOutputHelper output) : SimulationTest(output)
{
    [Fact]
    public void Soak()
    {
        var seeds = int.TryParse(Environment.GetEnvironmentVariable("RAFT_SOAK_SEEDS"), out var count) ? count : 2;
        for (var seed = 5000; seed < 5000 + seeds; seed++)
        {
            Run(seed, 5, SimNetwork.Unreliable, cluster => RaftScenarios.Figure8(cluster, crash: true, iterations: 200), snapshotEvery: 7);
            Run(seed, 5, SimNetwork.Unreliable, RaftScenarios.Churn, snapshotEvery: 7);
            Run(seed, 3, SimNetwork.Unreliable, RaftScenarios.Churn, new RaftOptions { PreVote = false, CheckQuorum = false }, snapshotEvery: 5);
            Run(seed, 6, SimNetwork.Unreliable, RaftScenarios.MembershipChurn, snapshotEvery: 9, voters: 3);
        }
    }
}
