using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

[Trait("Category", "Unit")]
public sealed class PhiAccrualDetectorTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>The expected phi, computed here from the window by hand: Akka's logistic approximation of the normal tail.</summary>
    private static double ExpectedPhi(IReadOnlyList<double> intervals, double elapsed, PhiAccrualOptions options)
    {
        var mean = intervals.Average();
        var deviation = Math.Sqrt(intervals.Select(i => (i - mean) * (i - mean)).Average());
        deviation = Math.Max(deviation, options.MinStdDeviation.TotalMilliseconds);
        mean += options.AcceptableHeartbeatPause.TotalMilliseconds;
        var y = (elapsed - mean) / deviation;
        var pLater = 1 / (1 + Math.Exp(y * (1.5976 + (0.070566 * y * y))));
        return -Math.Log10(pLater);
    }

    [Fact]
    public void Phi_is_zero_before_the_first_heartbeat()
    {
        var detector = new PhiAccrualDetector(new PhiAccrualOptions());
        Assert.Equal(0, detector.Phi(TimeSpan.FromHours(1)));
        Assert.False(detector.IsSuspect(TimeSpan.FromHours(1)));
    }

    [Fact]
    public void The_window_starts_with_two_samples_around_the_first_estimate()
    {
        var detector = new PhiAccrualDetector(new PhiAccrualOptions { FirstHeartbeatEstimate = TimeSpan.FromSeconds(1) });
        Assert.Equal(2, detector.SampleCount);
        Assert.Equal(1000, detector.MeanMilliseconds, 9);
        Assert.Equal(250, detector.StdDeviationMilliseconds, 9);
    }

    [Fact]
    public void At_the_mean_phi_is_minus_log10_of_one_half()
    {
        // y = 0 gives e = 1 and P_later = 1/2 exactly.
        var options = new PhiAccrualOptions { AcceptableHeartbeatPause = TimeSpan.Zero };
        var detector = new PhiAccrualDetector(options);
        detector.Heartbeat(Ms(0));
        Assert.Equal(Math.Log10(2), detector.Phi(Ms(1000)), 12);
    }

    [Theory]
    [InlineData(new double[] { 1000, 1000, 1000, 1000 }, 500)]
    [InlineData(new double[] { 1000, 1000, 1000, 1000 }, 1500)]
    [InlineData(new double[] { 900, 1100, 950, 1050, 1000 }, 1200)]
    [InlineData(new double[] { 200, 800, 400, 1600, 300 }, 2500)]
    [InlineData(new double[] { 1000, 1000, 1000 }, 4000)]
    public void Phi_matches_the_formula_for_known_inter_arrival_series(double[] series, double elapsed)
    {
        var options = new PhiAccrualOptions { AcceptableHeartbeatPause = TimeSpan.FromMilliseconds(300) };
        var detector = new PhiAccrualDetector(options);
        var now = 0.0;
        detector.Heartbeat(Ms(now));
        foreach (var interval in series)
        {
            now += interval;
            detector.Heartbeat(Ms(now));
        }

        // The window holds the two seeded samples (750, 1250) and the series.
        double[] window = [750, 1250, .. series];
        Assert.Equal(ExpectedPhi(window, elapsed, options), detector.Phi(Ms(now + elapsed)), 9);
    }

    [Fact]
    public void The_window_slides_dropping_the_oldest_interval()
    {
        var options = new PhiAccrualOptions { MaxSampleSize = 3, AcceptableHeartbeatPause = TimeSpan.Zero };
        var detector = new PhiAccrualDetector(options);
        double[] arrivals = [0, 100, 300, 600, 1000];
        foreach (var at in arrivals)
        {
            detector.Heartbeat(Ms(at));
        }

        // Seeds (750, 1250) and then 100, 200, 300, 400: the last three remain.
        Assert.Equal(3, detector.SampleCount);
        Assert.Equal(300, detector.MeanMilliseconds, 9);
        Assert.Equal(ExpectedPhi([200, 300, 400], 500, options), detector.Phi(Ms(1500)), 9);
    }

    [Fact]
    public void Default_options_convict_a_peer_silent_for_about_3_5_seconds_after_regular_1_second_heartbeats()
    {
        // Mean 1000 ms + 2000 ms pause, deviation floored at 100 ms: phi reaches 8 at y ≈ 4.9, about 3490 ms.
        var detector = new PhiAccrualDetector(new PhiAccrualOptions());
        for (var i = 0; i <= 20; i++)
        {
            detector.Heartbeat(TimeSpan.FromSeconds(i));
        }

        var last = TimeSpan.FromSeconds(20);
        Assert.False(detector.IsSuspect(last + Ms(3400)));
        Assert.True(detector.IsSuspect(last + Ms(3600)));
    }

    [Fact]
    public void Phi_grows_with_silence()
    {
        var detector = new PhiAccrualDetector(new PhiAccrualOptions());
        detector.Heartbeat(Ms(0));
        detector.Heartbeat(Ms(1000));
        // Far below the mean phi rounds to 0; from there on it must never fall, and it must rise past the mean (up to
        // where the tail underflows and phi is infinite, about 6 deviations past it).
        var previous = 0.0;
        for (var ms = 1000; ms <= 6000; ms += 250)
        {
            var phi = detector.Phi(Ms(ms));
            Assert.True(phi >= previous, $"phi({ms} ms) = {phi} fell from {previous}");
            Assert.True(ms < 3500 || phi > previous, $"phi({ms} ms) = {phi} did not grow from {previous}");
            previous = phi;
        }
    }

    [Theory]
    [InlineData("Threshold", "Threshold must be a positive finite number; got 0")]
    [InlineData("MaxSampleSize", "MaxSampleSize must be at least 1; got 0")]
    [InlineData("MinStdDeviation", "MinStdDeviation must be positive; got 00:00:00")]
    [InlineData("AcceptableHeartbeatPause", "AcceptableHeartbeatPause must not be negative; got -00:00:01")]
    [InlineData("FirstHeartbeatEstimate", "FirstHeartbeatEstimate must be positive; got 00:00:00")]
    public void Bad_options_are_refused_naming_the_option_and_value(string option, string message)
    {
        var options = option switch
        {
            "Threshold" => new PhiAccrualOptions { Threshold = 0 },
            "MaxSampleSize" => new PhiAccrualOptions { MaxSampleSize = 0 },
            "MinStdDeviation" => new PhiAccrualOptions { MinStdDeviation = TimeSpan.Zero },
            "AcceptableHeartbeatPause" => new PhiAccrualOptions { AcceptableHeartbeatPause = TimeSpan.FromSeconds(-1) },
            _ => new PhiAccrualOptions { FirstHeartbeatEstimate = TimeSpan.Zero },
        };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PhiAccrualDetector(options));
        Assert.Equal(option, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
