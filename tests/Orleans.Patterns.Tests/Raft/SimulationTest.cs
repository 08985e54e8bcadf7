using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Raft.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Runs a scenario on a seeded cluster, prints the seed, and on failure prints the recent trace.</summary>
public abstract class SimulationTest(ITestOutputHelper output)
{
    protected ITestOutputHelper Output { get; } = output;

    private protected void Run(
        int defaultSeed, int nodes, SimNetwork network, Action<SimCluster> scenario, RaftOptions? options = null, int snapshotEvery = 0, int voters = 0)
    {
        var seed = SimSeed.Resolve(defaultSeed, Output);
        var cluster = new SimCluster(nodes, seed, network, options, snapshotEvery, voters) { Output = Output.WriteLine };
        try
        {
            scenario(cluster);
            if (cluster.CheckDurability)
            {
                cluster.Checker.CheckDurable(cluster.Bootstrap.Voters, id => cluster.Nodes.First(n => n.Id == id).Storage, long.MaxValue);
            }

        }
        catch
        {
            Output.WriteLine($"failed at {cluster.Now.TotalMilliseconds} ms; recent events:");
            Output.WriteLine(cluster.RecentTrace);
            throw;
        }

        Output.WriteLine($"simulated {cluster.Now.TotalSeconds:F1} s, {cluster.MessagesSent} messages, {cluster.Checker.HighestCommitted} entries committed");
    }

    private protected static void Sleep(SimCluster cluster, int milliseconds) => cluster.RunFor(TimeSpan.FromMilliseconds(milliseconds));
}
