namespace Orleans.Patterns.Gossip;

/// <summary>
/// The phi accrual failure detector (Hayashibara, Défago, Yared, Katayama, "The φ Accrual Failure Detector", SRDS
/// 2004), in the variant of Akka's cluster: instead of a yes/no verdict it gives a suspicion level phi that grows the
/// longer the peer stays silent, scaled by how regular its heartbeats have been. No clock: the host passes the time of
/// each heartbeat and of each question. Not thread-safe.
/// </summary>
/// <remarks>
/// phi(t) = -log10(1 - F(t - last)), with F the normal CDF of the inter-arrival times (§3 of the paper), shifted by the
/// acceptable pause and with the deviation floored. Like Akka, F is the logistic approximation of the normal CDF
/// (Bowling et al. 2009, "A logistic approximation to the cumulative normal distribution"), which keeps phi finite and
/// monotonic far into the tail, where 1 - erf rounds to zero.
/// </remarks>
public sealed class PhiAccrualDetector
{
    private readonly PhiAccrualOptions _options;
    private readonly double[] _samples;
    private int _count;
    private int _next;
    private double _sum;
    private double _sumOfSquares;
    private TimeSpan? _last;

    public PhiAccrualDetector(PhiAccrualOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _samples = new double[options.MaxSampleSize];
        var estimate = options.FirstHeartbeatEstimate.TotalMilliseconds;
        Add(estimate - (estimate / 4));
        Add(estimate + (estimate / 4));
    }

    /// <summary>When the last heartbeat arrived; null before the first.</summary>
    public TimeSpan? LastHeartbeat => _last;

    /// <summary>Inter-arrival samples in the window (the two seeded from the first estimate included).</summary>
    public int SampleCount => _count;

    /// <summary>Mean of the window, in milliseconds.</summary>
    public double MeanMilliseconds => _sum / _count;

    /// <summary>Standard deviation of the window (population), in milliseconds, before the floor is applied.</summary>
    public double StdDeviationMilliseconds => Math.Sqrt(Math.Max(0, (_sumOfSquares / _count) - (MeanMilliseconds * MeanMilliseconds)));

    /// <summary>Records a heartbeat that arrived at <paramref name="now"/>; an earlier time than the last is ignored.</summary>
    public void Heartbeat(TimeSpan now)
    {
        if (_last is { } last)
        {
            if (now < last)
            {
                return;
            }

            Add((now - last).TotalMilliseconds);
        }

        _last = now;
    }

    /// <summary>The suspicion level at <paramref name="now"/>; 0 before the first heartbeat (nothing to be late for).</summary>
    public double Phi(TimeSpan now)
    {
        if (_last is not { } last)
        {
            return 0;
        }

        var elapsed = Math.Max(0, (now - last).TotalMilliseconds);
        var mean = MeanMilliseconds + _options.AcceptableHeartbeatPause.TotalMilliseconds;
        var deviation = Math.Max(StdDeviationMilliseconds, _options.MinStdDeviation.TotalMilliseconds);
        return Phi(elapsed, mean, deviation);
    }

    /// <summary>True when <see cref="Phi(TimeSpan)"/> is at or above the threshold.</summary>
    public bool IsSuspect(TimeSpan now) => Phi(now) >= _options.Threshold;

    /// <summary>
    /// -log10 of the probability that a heartbeat comes later than <paramref name="elapsed"/>, under a normal
    /// distribution of mean <paramref name="mean"/> and deviation <paramref name="deviation"/> (all in the same unit).
    /// With e = exp(-y(1.5976 + 0.070566 y²)) for y = (elapsed - mean) / deviation, the logistic approximation gives
    /// P_later = e / (1 + e); each branch is written so that it does not subtract nearly equal numbers.
    /// </summary>
    internal static double Phi(double elapsed, double mean, double deviation)
    {
        var y = (elapsed - mean) / deviation;
        var e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
        return elapsed > mean
            ? -Math.Log10(e / (1.0 + e))
            : -Math.Log10(1.0 - (1.0 / (1.0 + e)));
    }

    private void Add(double interval)
    {
        if (_count == _samples.Length)
        {
            var old = _samples[_next];
            _sum -= old;
            _sumOfSquares -= old * old;
        }
        else
        {
            _count++;
        }

        _samples[_next] = interval;
        _next = (_next + 1) % _samples.Length;
        _sum += interval;
        _sumOfSquares += interval * interval;
    }
}
