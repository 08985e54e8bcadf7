using Orleans.Patterns.History;
using static Orleans.Patterns.Tests.Linearizability.H;

namespace Orleans.Patterns.Tests.Linearizability;

[Trait("Category", "Unit")]
public sealed class LinearizabilityCheckerTests
{
    [Fact]
    public void EmptyHistory_IsLinearizable() =>
        AssertLinearizable(LinearizabilityChecker.Check([]));

    [Fact]
    public void SequentialWritesAndReads_AreLinearizable() =>
        AssertLinearizable(Check(
            Put(1, "k1", "a", 0, 10),
            Get(2, "k1", "a", 20, 30),
            Put(1, "k1", "b", 40, 50),
            Get(2, "k1", "b", 60, 70),
            Get(3, "k2", null, 0, 5)));

    [Fact]
    public void StaleReadAfterACompletedWrite_IsNotLinearizable()
    {
        HistoryOperation stale = Get(3, "k1", "a", 40, 50);
        LinearizabilityResult result = Check(
            Put(1, "k1", "a", 0, 10),
            Put(2, "k1", "b", 20, 30),
            stale,
            Get(4, "k2", null, 0, 100));

        LinearizabilityViolation violation = AssertViolation(result, "k1");
        Assert.Equal(stale, violation.Unplaceable);
        Assert.Equal(2, violation.LinearizedPrefix.Count);
        Assert.Equal("b", violation.StateAfterPrefix["k1"]);
    }

    [Fact]
    public void ReadOfAValueNeverWritten_IsNotLinearizable()
    {
        LinearizabilityViolation violation = AssertViolation(
            Check(Put(1, "k1", "a", 0, 10), Get(2, "k1", "ghost", 5, 15)),
            "k1");
        Assert.Equal("ghost", violation.Unplaceable.Output);
    }

    [Fact]
    public void ReadConcurrentWithAWrite_MaySeeEitherValue()
    {
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), Put(2, "k1", "b", 20, 40), Get(3, "k1", "a", 25, 30)));
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), Put(2, "k1", "b", 20, 40), Get(3, "k1", "b", 25, 30)));
    }

    [Fact]
    public void TouchingIntervals_CountAsConcurrent() =>
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), Get(2, "k1", null, 10, 20)));

    [Fact]
    public void LostUpdateWithCas_IsNotLinearizable()
    {
        // Both clients swap from "v0": only one of them can have seen "v0".
        AssertViolation(
            Check(
                Put(1, "k1", "v0", 0, 10),
                Cas(1, "k1", "v0", "x", swapped: true, 20, 40),
                Cas(2, "k1", "v0", "y", swapped: true, 25, 45)),
            "k1");

        // One swapped, the other correctly failed: fine.
        AssertLinearizable(Check(
            Put(1, "k1", "v0", 0, 10),
            Cas(1, "k1", "v0", "x", swapped: true, 20, 40),
            Cas(2, "k1", "v0", "y", swapped: false, 25, 45),
            Get(3, "k1", "x", 50, 60)));
    }

    [Fact]
    public void FailedCompare_IsARead()
    {
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), Cas(2, "k1", "b", "c", swapped: false, 20, 30), Get(3, "k1", "a", 40, 50)));
        AssertViolation(Check(Put(1, "k1", "a", 0, 10), Cas(2, "k1", "a", "c", swapped: false, 20, 30)), "k1");
    }

    [Fact]
    public void CasWithNullExpected_CreatesOnlyIfAbsent()
    {
        AssertLinearizable(Check(Cas(1, "k1", null, "a", swapped: true, 0, 10), Get(2, "k1", "a", 20, 30)));
        AssertViolation(Check(Put(1, "k1", "a", 0, 10), Cas(2, "k1", null, "b", swapped: true, 20, 30)), "k1");
    }

    [Fact]
    public void OverlappingOperations_LinearizableInOnlyOneOrder()
    {
        // Both puts overlap; the reads force "b" first, then "a": b < get(b) < a.
        HistoryOperation[] history =
        [
            Put(1, "k1", "a", 0, 100),
            Put(2, "k1", "b", 10, 90),
            Get(3, "k1", "b", 95, 105),
            Get(3, "k1", "a", 110, 120),
        ];
        AssertLinearizable(Check(history));

        // A later read of "b" needs "b" after "a" as well: no order fits.
        AssertViolation(Check([.. history, Get(4, "k1", "b", 130, 140)]), "k1");
    }

    [Fact]
    public void UnknownOutcomeWrite_CanBeIncludedOrOmitted()
    {
        HistoryOperation maybe = Put(2, "k1", "b", 20, 30).Unknown();
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), maybe, Get(3, "k1", "b", 50, 60)));
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), maybe, Get(3, "k1", "a", 50, 60)));

        // It may take effect arbitrarily late (its return is +infinity)...
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), maybe, Get(3, "k1", "a", 200, 210), Get(3, "k1", "b", 300, 310)));

        // ...but only once: nothing writes "a" again after it.
        AssertViolation(
            Check(Put(1, "k1", "a", 0, 10), maybe, Get(3, "k1", "b", 200, 210), Get(3, "k1", "a", 300, 310)),
            "k1");
    }

    [Fact]
    public void UnknownOutcomeWrite_CannotTakeEffectBeforeItsCall() =>
        AssertViolation(Check(Put(1, "k1", "a", 0, 10), Get(3, "k1", "b", 50, 60), Put(2, "k1", "b", 100, 110).Unknown()), "k1");

    [Fact]
    public void UnknownOutcomeCas_TakesEffectOnlyIfTheCompareHolds()
    {
        HistoryOperation maybe = Cas(2, "k1", "a", "b", swapped: true, 20, 30).Unknown();
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), maybe, Get(3, "k1", "b", 50, 60)));
        AssertViolation(Check(Put(1, "k1", "z", 0, 10), maybe, Get(3, "k1", "b", 50, 60)), "k1");
    }

    [Fact]
    public void FailedWrite_IsDroppedAndNeverVisible()
    {
        HistoryOperation failed = Put(2, "k1", "b", 20, 30).Failed();
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), failed, Get(3, "k1", "a", 50, 60)));
        AssertViolation(Check(Put(1, "k1", "a", 0, 10), failed, Get(3, "k1", "b", 50, 60)), "k1");
    }

    [Fact]
    public void DeleteThenGet_ReadsNull()
    {
        AssertLinearizable(Check(Put(1, "k1", "a", 0, 10), Delete(1, "k1", 20, 30), Get(2, "k1", null, 40, 50)));
        AssertViolation(Check(Put(1, "k1", "a", 0, 10), Delete(1, "k1", 20, 30), Get(2, "k1", "a", 40, 50)), "k1");
        AssertViolation(Check(Put(1, "k1", "a", 0, 10), Get(2, "k1", null, 40, 50)), "k1");
    }

    [Fact]
    public void Txn_IsAtomicAcrossKeys()
    {
        HistoryOperation[] writes =
        [
            Txn(1, 0, 10, TPut("k1", "a"), TPut("k2", "a")),
            Txn(2, 20, 30, TPut("k1", "b"), TPut("k2", "b")),
            Put(3, "k3", "x", 0, 5),
        ];
        AssertLinearizable(Check([.. writes, Txn(4, 15, 40, TGet("k1", "b"), TGet("k2", "b"))]));
        AssertLinearizable(Check([.. writes, Txn(4, 15, 40, TGet("k1", "a"), TGet("k2", "a")), Get(5, "k1", "b", 50, 60)]));

        // A torn read: no single instant has k1 = a and k2 = b.
        LinearizabilityViolation violation = AssertViolation(
            Check([.. writes, Txn(4, 15, 40, TGet("k1", "a"), TGet("k2", "b"))]),
            "k1");
        Assert.Contains("k2", violation.Keys);
        Assert.DoesNotContain("k3", violation.Keys);
    }

    [Fact]
    public void Txn_AndSingleKeyOperations_ShareOnePartition() =>
        AssertViolation(
            Check(Txn(1, 0, 10, TPut("k1", "a"), TPut("k2", "a")), Put(2, "k2", "b", 20, 30), Txn(3, 40, 50, TGet("k1", "a"), TGet("k2", "a"))),
            "k2");

    [Fact]
    public void Violation_IsPrintable()
    {
        LinearizabilityResult result = Check(Put(1, "k1", "a", 0, 10), Put(2, "k1", "b", 20, 30), Get(3, "k1", "a", 40, 50));
        string text = result.ToString();
        Assert.Contains("NotLinearizable", text, StringComparison.Ordinal);
        Assert.Contains("k1", text, StringComparison.Ordinal);
        Assert.Contains("""{"client":3,"op":"get","key":"k1","call_ns":40,"return_ns":50,"ok":true,"output":"a"}""", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ExhaustedBudget_IsInconclusive_NotAHang()
    {
        // 24 fully concurrent writes and a read no order can satisfy: without a budget the search would visit
        // ~2^24 subsets before saying no.
        var history = Enumerable.Range(0, 24).Select(i => Put(i, "k1", $"v{i}", 0, 1000)).ToList();
        history.Add(Get(99, "k1", "never", 2000, 2010));

        LinearizabilityResult result = LinearizabilityChecker.Check(history, new CheckerBudget(TimeSpan.FromSeconds(30), 20_000));
        Assert.Equal(LinearizabilityOutcome.Inconclusive, result.Outcome);
        Assert.Contains("k1", result.InconclusiveReason, StringComparison.Ordinal);
    }

    internal static void AssertLinearizable(LinearizabilityResult result) =>
        Assert.True(result.Outcome == LinearizabilityOutcome.Linearizable, result.ToString());

    internal static LinearizabilityViolation AssertViolation(LinearizabilityResult result, string key)
    {
        Assert.True(result.Outcome == LinearizabilityOutcome.NotLinearizable, result.ToString());
        Assert.NotNull(result.Violation);
        Assert.Contains(key, result.Violation.Keys);
        return result.Violation;
    }
}
