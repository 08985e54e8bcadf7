using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Gossip;

/// <summary>The per-silo gossip member and heartbeat watchdog (configuration section <c>gossip</c>).</summary>
public sealed class GossipOptions
{
    /// <summary>
    /// SWIM timing for a silo cluster on one network: probes every 500 ms with a 250 ms timeout, so a crashed silo is
    /// suspected within about a second and declared dead within about three; the core's defaults (memberlist's LAN
    /// profile, 1 s probes) suit large groups, where the simulator measures them.
    /// </summary>
    public SwimOptions Swim { get; set; } = new()
    {
        ProbeInterval = TimeSpan.FromMilliseconds(500),
        ProbeTimeout = TimeSpan.FromMilliseconds(250),
        GossipInterval = TimeSpan.FromMilliseconds(100),
        SuspicionMultiplier = 3,
        PushPullInterval = TimeSpan.FromSeconds(10),
    };

    /// <summary>Heartbeats every 250 ms, so phi crosses 8 about a second and a half after the last one on a quiet network.</summary>
    public HeartbeatWatchdogOptions Watchdog { get; set; } = new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(250),
        Detector = new PhiAccrualOptions
        {
            MinStdDeviation = TimeSpan.FromMilliseconds(50),
            AcceptableHeartbeatPause = TimeSpan.FromMilliseconds(500),
            FirstHeartbeatEstimate = TimeSpan.FromMilliseconds(250),
        },
    };

    /// <summary>How often the grains look at their clocks (the cores' deadlines are met to within this).</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>When true (the default), a watchdog's conviction makes this silo's gossip member suspect the peer at once.</summary>
    public bool WatchdogReportsToGossip { get; set; } = true;
}

internal sealed class GossipOptionsValidator : IValidateOptions<GossipOptions>
{
    public ValidateOptionsResult Validate(string? name, GossipOptions options)
    {
        try
        {
            options.Swim.Validate();
            options.Watchdog.Validate();
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"gossip: {e.Message}");
        }

        return options.TickInterval > TimeSpan.Zero && options.TickInterval <= TimeSpan.FromSeconds(1)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"gossip:tick_interval must be between 1 ms and 1 s; got {options.TickInterval}");
    }
}
