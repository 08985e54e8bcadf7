using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>Seeds for randomized tests: fixed by default, so runs repeat; <c>RAFT_SEED</c> replays one.</summary>
internal static class SimSeed
{
    public static int Resolve(int defaultSeed, ITestOutputHelper output)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAFT_SEED"), out var fromEnvironment) ? fromEnvironment : defaultSeed;
        output.WriteLine($"seed={seed} (replay with RAFT_SEED={seed})");
        return seed;
    }
}
