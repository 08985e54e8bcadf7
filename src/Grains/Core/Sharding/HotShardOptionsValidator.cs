namespace Orleans.Patterns.Sharding;

/// <summary>Checks <see cref="HotShardOptions"/>, naming the option that is wrong and its value.</summary>
internal static class HotShardOptionsValidator
{
    public static void Validate(HotShardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!double.IsFinite(options.SplitFraction) || options.SplitFraction <= 0)
        {
            throw Invalid(nameof(HotShardOptions.SplitFraction), options.SplitFraction, "must be a finite number greater than 0");
        }

        if (!double.IsFinite(options.MergeFraction) || options.MergeFraction < 0)
        {
            throw Invalid(nameof(HotShardOptions.MergeFraction), options.MergeFraction, "must be a finite number of at least 0");
        }

        if (options.MergeFraction >= options.SplitFraction)
        {
            throw Invalid(
                nameof(HotShardOptions.MergeFraction),
                options.MergeFraction,
                $"must be below SplitFraction ({options.SplitFraction}), or a shard would be merged at a load that splits it");
        }

        if (options.MaxChangesPerRound < 1)
        {
            throw Invalid(nameof(HotShardOptions.MaxChangesPerRound), options.MaxChangesPerRound, "must be at least 1");
        }

        if (!double.IsFinite(options.MinTotalOpsPerSecond) || options.MinTotalOpsPerSecond < 0)
        {
            throw Invalid(nameof(HotShardOptions.MinTotalOpsPerSecond), options.MinTotalOpsPerSecond, "must be a finite number of at least 0");
        }
    }

    private static ArgumentOutOfRangeException Invalid(string option, object value, string rule) =>
        new($"options.{option}", value, $"{nameof(HotShardOptions)}.{option} {rule}; got {value}.");
}
