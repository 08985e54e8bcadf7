namespace Orleans.Patterns.Client.Workload;

/// <summary>
/// Draws indexes in [0, n) with Zipf's law: index k (rank k + 1) has probability proportional to 1 / (k + 1)^skew, so a few
/// users take most of the calls. The cumulative distribution is computed once; a draw is a binary search on it.
/// </summary>
internal sealed class ZipfSampler
{
    private readonly double[] _cumulative;

    /// <param name="n">How many indexes; at least 1.</param>
    /// <param name="skew">The exponent s; above 0 (1 is the classic Zipf; larger is more skewed).</param>
    public ZipfSampler(int n, double skew)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (!(skew > 0) || double.IsInfinity(skew))
        {
            throw new ArgumentOutOfRangeException(nameof(skew), skew, "The skew must be a finite number above 0.");
        }

        _cumulative = new double[n];
        var sum = 0.0;
        for (var k = 0; k < n; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, skew);
            _cumulative[k] = sum;
        }

        for (var k = 0; k < n; k++)
        {
            _cumulative[k] /= sum;
        }

        // Rounding must not leave a gap above the last index.
        _cumulative[n - 1] = 1.0;
    }

    public int Count => _cumulative.Length;

    /// <summary>The probability of index <paramref name="k"/>.</summary>
    public double Probability(int k) => k == 0 ? _cumulative[0] : _cumulative[k] - _cumulative[k - 1];

    /// <summary>The index a uniform draw <paramref name="u"/> in [0, 1) maps to: the first whose cumulative share exceeds it.</summary>
    public int Sample(double u)
    {
        var index = Array.BinarySearch(_cumulative, u);

        // Not found: the complement is the first element larger than u. Found exactly: that index's share ends at u, so the next one.
        index = index < 0 ? ~index : index + 1;
        return Math.Min(index, _cumulative.Length - 1);
    }

    public int Next(Random random) => Sample(random.NextDouble());

    /// <summary>
    /// A uniform draw in [0, 1) fixed by (<paramref name="seed"/>, <paramref name="operation"/>) alone (SplitMix64), so the user
    /// of operation i is the same in every run with the seed, whichever concurrent caller happens to make it.
    /// </summary>
    public static double UniformAt(int seed, long operation)
    {
        var z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)operation) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
