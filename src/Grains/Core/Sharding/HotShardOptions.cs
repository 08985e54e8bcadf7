namespace Orleans.Patterns.Sharding;

/// <summary>
/// Thresholds of <see cref="HotShardPolicy"/>, as fractions of a member's fair share of the cluster's load (total
/// operations per second over the member count).
/// </summary>
public sealed record HotShardOptions
{
    /// <summary>Default <see cref="SplitFraction"/>: one shard alone carries a quarter of a member's fair share.</summary>
    public const double DefaultSplitFraction = 0.25;

    /// <summary>Default <see cref="MergeFraction"/>.</summary>
    public const double DefaultMergeFraction = 0.10;

    /// <summary>Default <see cref="MaxChangesPerRound"/>.</summary>
    public const int DefaultMaxChangesPerRound = 4;

    /// <summary>Default <see cref="MinTotalOpsPerSecond"/>.</summary>
    public const double DefaultMinTotalOpsPerSecond = 50;

    /// <summary>
    /// A shard that is not split is split when its load exceeds this fraction of a member's fair share. Finite and
    /// greater than 0; default 0.25.
    /// </summary>
    public double SplitFraction { get; init; } = DefaultSplitFraction;

    /// <summary>
    /// A split shard is merged when its (whole) load falls below this fraction of a member's fair share. At least 0
    /// and below <see cref="SplitFraction"/>, so that loads between the two change nothing; default 0.10.
    /// </summary>
    public double MergeFraction { get; init; } = DefaultMergeFraction;

    /// <summary>The most splits and merges one decision makes; at least 1, default 4.</summary>
    public int MaxChangesPerRound { get; init; } = DefaultMaxChangesPerRound;

    /// <summary>
    /// Below this total load (operations per second over all shards) nothing is decided: an idle cluster's fractions
    /// are noise. Finite and at least 0; default 50.
    /// </summary>
    public double MinTotalOpsPerSecond { get; init; } = DefaultMinTotalOpsPerSecond;
}
