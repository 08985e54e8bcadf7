using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Gossip;

/// <summary>
/// The thin adapter between a <see cref="HeartbeatWatchdog"/> and Orleans: asks the watched peers' watchdogs for
/// heartbeats, feeds the answers to the core, and carries out its verdicts (a conviction makes this silo's gossip
/// member suspect the peer).
/// </summary>
/// <remarks>
/// Reentrant: every call touches the core synchronously and returns; peers talk one-way, so two watchdogs asking each
/// other for heartbeats cannot deadlock, and a hung peer is only silent.
/// </remarks>
[SiloPinnedPlacement, Reentrant, CollectionAgeLimit(AlwaysActive = true)]
internal sealed partial class HeartbeatWatchdogGrain(
    IOptions<GossipOptions> options,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    TimeProvider timeProvider,
    LocalGossipVerdicts verdicts,
    ILogger<HeartbeatWatchdogGrain> logger) : Grain, IHeartbeatWatchdogGrain
{
    private const int VerdictsKept = 32;
    private readonly GossipOptions _options = options.Value;
    private readonly Queue<WatchdogEvent> _recentVerdicts = new();
    private HeartbeatWatchdog _watchdog = null!;
    private long _startTimestamp;
    private MembershipVersion _seenVersion = MembershipVersion.MinValue;
    private long _seenGossipVersion = -1;

    private TimeSpan Now => timeProvider.GetElapsedTime(_startTimestamp);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        SiloPinnedActivation.EnsureOnOwnSilo(this, localSilo.Name);
        _startTimestamp = timeProvider.GetTimestamp();
        _watchdog = new HeartbeatWatchdog(localSilo.Name, _options.Watchdog, Now);
        FollowMembership();
        this.RegisterGrainTimer(
            static (self, _) => self.OnTick(),
            this,
            new GrainTimerCreationOptions(_options.TickInterval, _options.TickInterval) { Interleave = true, KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task Start() => Task.CompletedTask; // activation is the start

    public Task RequestHeartbeat(string watcher)
    {
        ArgumentException.ThrowIfNullOrEmpty(watcher);
        Send(watcher, static (grain, self) => grain.Heartbeat(self));
        return Task.CompletedTask;
    }

    public Task Heartbeat(string peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        _watchdog.Heartbeat(peer, Now);
        Act();
        return Task.CompletedTask;
    }

    public Task<WatchdogHealth> GetHealth()
    {
        var now = Now;
        var peers = _watchdog.Status(now)
            .Select(p => new WatchdogPeer(p.Peer, p.Phi, p.Convicted, p.LastHeartbeat is { } last ? now - last : null))
            .ToList();
        var verdicts = _recentVerdicts.Select(v => new WatchdogVerdictRecord(v.Peer, v.Verdict.ToString(), v.Phi, now - v.At)).ToList();
        return Task.FromResult(new WatchdogHealth(localSilo.Name, _options.Watchdog.Detector.Threshold, peers, verdicts));
    }

    private Task OnTick()
    {
        FollowMembership();
        _watchdog.Tick(Now);
        foreach (var peer in _watchdog.TakeHeartbeatRequests())
        {
            Send(peer, static (grain, self) => grain.RequestHeartbeat(self));
        }

        Act();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Watches the silos Orleans lists as not dead (joining, active, shutting down) and those this silo's gossip member
    /// still holds alive or suspect. Orleans may drop a crashed silo before any detector here convicted it (a test
    /// cluster does so at once); gossip keeps it watched until gossip itself declares it dead, so the conviction and its
    /// recovery action still happen. A silo neither lists cannot be asked.
    /// </summary>
    private void FollowMembership()
    {
        var snapshot = membership.CurrentSnapshot;
        var gossipVersion = verdicts.Version;
        if (snapshot.Version == _seenVersion && gossipVersion == _seenGossipVersion)
        {
            return;
        }

        _seenVersion = snapshot.Version;
        _seenGossipVersion = gossipVersion;
        var names = snapshot.Members.Values
            .Where(m => m.Status is SiloStatus.Joining or SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping)
            .Select(m => m.Name)
            .Concat(verdicts.Live)
            .Where(n => n != localSilo.Name)
            .Distinct(StringComparer.Ordinal);
        _watchdog.SetMembers(names, Now);
    }

    private void Act()
    {
        foreach (var verdict in _watchdog.TakeEvents())
        {
            _recentVerdicts.Enqueue(verdict);
            if (_recentVerdicts.Count > VerdictsKept)
            {
                _recentVerdicts.Dequeue();
            }

            if (verdict.Verdict == WatchdogVerdict.Convicted)
            {
                LogConvicted(localSilo.Name, verdict.Peer, verdict.Phi);
                if (_options.WatchdogReportsToGossip)
                {
                    // Local call: this silo's own gossip member.
                    _ = GrainFactory.GetGrain<IGossipGrain>(localSilo.Name).ReportSuspect(verdict.Peer);
                }
            }
            else
            {
                LogReadmitted(localSilo.Name, verdict.Peer);
            }
        }
    }

    private void Send(string peer, Func<IHeartbeatWatchdogGrain, string, Task> call)
    {
        try
        {
            _ = call(GrainFactory.GetGrain<IHeartbeatWatchdogGrain>(peer), localSilo.Name);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            LogSendFailed(e, localSilo.Name, peer);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watchdog {Node} convicted {Peer} (phi {Phi:0.0})")]
    private partial void LogConvicted(string node, string peer, double phi);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watchdog {Node} re-admitted {Peer}")]
    private partial void LogReadmitted(string node, string peer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Watchdog {Node}: could not reach {Peer}")]
    private partial void LogSendFailed(Exception exception, string node, string peer);
}
