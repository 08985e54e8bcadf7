using System.Diagnostics;
using System.Globalization;
using Orleans.Patterns.History;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Linearizability;

[Trait("Category", "Unit")]
public sealed class LinearizabilityRandomizedTests(ITestOutputHelper output)
{
    private const int Seeds = 40;

    /// <summary>Set LIN_SEED to rerun one seed's workload.</summary>
    private static IEnumerable<int> SeedsToRun() =>
        Environment.GetEnvironmentVariable("LIN_SEED") is { Length: > 0 } seed
            ? [int.Parse(seed, CultureInfo.InvariantCulture)]
            : Enumerable.Range(1, Seeds);

    [Fact]
    public void HistoriesOfALinearizableStore_AreLinearizable_AndOneStaleReadIsCaught()
    {
        foreach (int seed in SeedsToRun())
        {
            IReadOnlyList<HistoryOperation> history = ConcurrentKvHistory.Generate(seed, clients: 4, opsPerClient: 60, keys: 4, txns: seed % 2 == 0);
            LinearizabilityResult result = LinearizabilityChecker.Check(history);
            if (result.Outcome != LinearizabilityOutcome.Linearizable)
            {
                Assert.Fail($"seed {seed} (replay with LIN_SEED={seed}), history in {Save(seed, history)}: {result}");
            }

            var mutation = ConcurrentKvHistory.MutateOneReadToStale(history, new Random(seed));
            Assert.True(mutation is not null, $"seed {seed}: no read could be made stale; the workload is too sparse");
            (IReadOnlyList<HistoryOperation> mutated, HistoryOperation stale) = mutation.Value;
            LinearizabilityResult caught = LinearizabilityChecker.Check(mutated);
            if (caught.Outcome != LinearizabilityOutcome.NotLinearizable || !caught.Violation!.Keys.Contains(stale.Key!))
            {
                Assert.Fail($"seed {seed} (replay with LIN_SEED={seed}), stale read {stale}, history in {Save(seed, mutated)}: {caught}");
            }
        }
    }

    // A sanity check of the search's cost, not a timed assertion: the duration is printed for the README.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TenThousandOperations_TwentyKeys_EightClients_CheckWithinTheBudget(bool txns)
    {
        IReadOnlyList<HistoryOperation> history = ConcurrentKvHistory.Generate(seed: 7, clients: 8, opsPerClient: 1250, keys: 20, txns);
        var clock = Stopwatch.StartNew();
        LinearizabilityResult result = LinearizabilityChecker.Check(history);
        clock.Stop();
        output.WriteLine($"txns={txns}: {history.Count} ops checked in {clock.Elapsed.TotalMilliseconds:F0} ms: {result}");
        Assert.True(result.Outcome == LinearizabilityOutcome.Linearizable, result.ToString());
    }

    // Written only on failure, next to the test binaries, so the exact failing history can be rechecked.
    private static string Save(int seed, IReadOnlyList<HistoryOperation> history)
    {
        string file = $"lin-seed-{seed}.jsonl";
        HistoryJson.WriteFile(file, history);
        return file;
    }
}
