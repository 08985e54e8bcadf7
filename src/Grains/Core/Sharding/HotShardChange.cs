using System.Globalization;

namespace Orleans.Patterns.Sharding;

/// <summary>What <see cref="HotShardPolicy"/> does to one shard.</summary>
public enum HotShardAction
{
    /// <summary>Serve the shard's child half from a second member.</summary>
    Split,

    /// <summary>Return a split shard's child half to its owner.</summary>
    Merge,
}

/// <summary>One decision of <see cref="HotShardPolicy"/>, with the figures that caused it, for logs.</summary>
/// <param name="Action">Split or merge.</param>
/// <param name="Shard">The shard.</param>
/// <param name="Owner">The shard's owner, which keeps the other half.</param>
/// <param name="ChildOwner">The member that takes (split) or gives back (merge) the child half.</param>
/// <param name="Load">The shard's whole load, operations per second.</param>
/// <param name="Threshold">The threshold it crossed: above it for a split, below it for a merge.</param>
public readonly record struct HotShardChange(
    HotShardAction Action, int Shard, string Owner, string ChildOwner, double Load, double Threshold)
{
    /// <summary>For logs, e.g. <c>split shard 12 of silo-1 to silo-3: 830.0 ops/s above the split threshold 250.0</c>.</summary>
    public override string ToString() => Action == HotShardAction.Split
        ? string.Create(CultureInfo.InvariantCulture, $"split shard {Shard} of {Owner} to {ChildOwner}: {Load:F1} ops/s above the split threshold {Threshold:F1}")
        : string.Create(CultureInfo.InvariantCulture, $"merge shard {Shard} from {ChildOwner} back to {Owner}: {Load:F1} ops/s below the merge threshold {Threshold:F1}");
}
