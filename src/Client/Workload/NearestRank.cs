namespace Orleans.Patterns.Client.Workload;

/// <summary>Median, one nearest-rank percentile and the maximum of the trials' times, in milliseconds; absent values are skipped.</summary>
internal readonly record struct NearestRank(double Median, double Percentile, double Max, int Count)
{
    public static NearestRank Of(IEnumerable<TimeSpan?> values, double fraction)
    {
        var sorted = values.OfType<TimeSpan>().Select(v => v.TotalMilliseconds).Order().ToArray();
        if (sorted.Length == 0)
        {
            return new NearestRank(double.NaN, double.NaN, double.NaN, 0);
        }

        return new NearestRank(SortedValues.Median(sorted), sorted[(int)Math.Ceiling(fraction * sorted.Length) - 1], sorted[^1], sorted.Length);
    }
}
