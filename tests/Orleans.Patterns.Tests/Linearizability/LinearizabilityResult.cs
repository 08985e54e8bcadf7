using System.Text;
using Orleans.Patterns.History;

namespace Orleans.Patterns.Tests.Linearizability;

internal enum LinearizabilityOutcome
{
    Linearizable,
    NotLinearizable,

    /// <summary>The budget ran out first; nothing is claimed either way.</summary>
    Inconclusive,
}

/// <summary>Limits for one check, shared by all partitions. A step is one move of the search (try, skip or undo).</summary>
internal sealed record CheckerBudget(TimeSpan Timeout, long MaxSteps)
{
    public static CheckerBudget Default { get; } = new(TimeSpan.FromSeconds(60), 500_000_000);
}

/// <summary>
/// Why a partition is not linearizable: the longest prefix the search could linearize, the state it leaves, and the
/// operation whose return came before it could be placed anywhere after that prefix (with the operations that were
/// candidates at that point). Every linearization of the partition gets stuck no later than this.
/// </summary>
internal sealed record LinearizabilityViolation(
    IReadOnlyList<string> Keys,
    IReadOnlyList<HistoryOperation> LinearizedPrefix,
    IReadOnlyDictionary<string, string?> StateAfterPrefix,
    HistoryOperation Unplaceable,
    IReadOnlyList<HistoryOperation> Candidates)
{
    public string Describe(int maxPrefixShown = 10)
    {
        var text = new StringBuilder();
        text.Append("Not linearizable on key(s) ").AppendJoin(", ", Keys).AppendLine(".");
        text.Append("Longest linearizable prefix: ").Append(LinearizedPrefix.Count).AppendLine(" op(s)");
        int skipped = Math.Max(0, LinearizedPrefix.Count - maxPrefixShown);
        if (skipped > 0)
        {
            text.Append("  ... ").Append(skipped).AppendLine(" earlier op(s)");
        }

        foreach (HistoryOperation op in LinearizedPrefix.Skip(skipped))
        {
            text.Append("  ").AppendLine(op.ToString());
        }

        text.Append("State after it: ")
            .AppendJoin(", ", StateAfterPrefix.Select(kv => $"{kv.Key}={kv.Value ?? "<absent>"}"))
            .AppendLine();
        text.AppendLine("Could not be placed next (it returned before any order could include it):");
        text.Append("  ").AppendLine(Unplaceable.ToString());
        text.AppendLine("Candidates at that point (called, not yet linearized):");
        foreach (HistoryOperation op in Candidates)
        {
            text.Append("  ").AppendLine(op.ToString());
        }

        return text.ToString();
    }

    public override string ToString() => Describe();
}

internal sealed record LinearizabilityResult(
    LinearizabilityOutcome Outcome,
    LinearizabilityViolation? Violation,
    string? InconclusiveReason,
    int Partitions,
    int OperationsChecked,
    long Steps,
    TimeSpan Elapsed)
{
    public override string ToString()
    {
        string summary = $"{Outcome}: {OperationsChecked} op(s) in {Partitions} partition(s), {Steps} step(s), {Elapsed.TotalMilliseconds:F1} ms";
        return Outcome switch
        {
            LinearizabilityOutcome.NotLinearizable => summary + Environment.NewLine + Violation!.Describe(),
            LinearizabilityOutcome.Inconclusive => summary + " - " + InconclusiveReason,
            _ => summary,
        };
    }
}
