namespace Orleans.Patterns.Client.Workload;

/// <summary>Figures over a run's rounds or trials, shared by the bench reports.</summary>
internal static class SortedValues
{
    /// <summary>The median of values already in ascending order: the middle one, or the mean of the middle two.</summary>
    public static double Median(IReadOnlyList<double> sorted)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sorted.Count, nameof(sorted));
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
