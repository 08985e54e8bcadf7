namespace Orleans.Patterns.Gossip;

/// <summary>
/// Tuning of a <see cref="PhiAccrualDetector"/>. The defaults follow Akka's cluster failure detector, except the
/// acceptable pause (see <see cref="AcceptableHeartbeatPause"/>).
/// </summary>
public sealed record PhiAccrualOptions
{
    /// <summary>
    /// Phi at or above which the peer is convicted. 8 means the detector is wrong about once in 10^8 heartbeat gaps of
    /// the observed distribution (Hayashibara et al. 2004, §3: phi = -log10 P_later(t)); Akka's default.
    /// </summary>
    public double Threshold { get; init; } = 8.0;

    /// <summary>Inter-arrival times kept in the sliding window; the oldest drops out first.</summary>
    public int MaxSampleSize { get; init; } = 1000;

    /// <summary>
    /// Floor under the window's standard deviation. Heartbeats on a quiet LAN arrive almost exactly on time, and a
    /// near-zero deviation would make phi jump to the threshold on the first late heartbeat.
    /// </summary>
    public TimeSpan MinStdDeviation { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Lateness forgiven on top of the mean inter-arrival time (Akka's <c>acceptable-heartbeat-pause</c>): it covers GC
    /// pauses and scheduling hiccups. 2 s at a 1 s heartbeat convicts a silent peer about 3.6 s after its last
    /// heartbeat, inside the 5 s the project aims for, while riding out pauses of a couple of seconds.
    /// </summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Expected interval before any is observed. The window starts with two samples, this value ± a quarter of it,
    /// so a peer that never answers after its first heartbeat is still convicted (Akka's <c>firstHeartbeatEstimate</c>).
    /// </summary>
    public TimeSpan FirstHeartbeatEstimate { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws naming the first option that is out of range, with its value.</summary>
    public void Validate()
    {
        if (!(Threshold > 0) || double.IsInfinity(Threshold))
        {
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, $"{nameof(Threshold)} must be a positive finite number; got {Threshold}");
        }

        if (MaxSampleSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSampleSize), MaxSampleSize, $"{nameof(MaxSampleSize)} must be at least 1; got {MaxSampleSize}");
        }

        if (MinStdDeviation <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MinStdDeviation), MinStdDeviation, $"{nameof(MinStdDeviation)} must be positive; got {MinStdDeviation}");
        }

        if (AcceptableHeartbeatPause < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(AcceptableHeartbeatPause), AcceptableHeartbeatPause, $"{nameof(AcceptableHeartbeatPause)} must not be negative; got {AcceptableHeartbeatPause}");
        }

        if (FirstHeartbeatEstimate <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(FirstHeartbeatEstimate), FirstHeartbeatEstimate, $"{nameof(FirstHeartbeatEstimate)} must be positive; got {FirstHeartbeatEstimate}");
        }
    }
}
