using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Gossip;

/// <summary>
/// The thin adapter between a <see cref="SwimNode"/> and Orleans: owns the member's identity (its silo's name and
/// address), its timer and its messages; every protocol decision is the core's.
/// </summary>
/// <remarks>
/// Reentrant: every call is short and synchronous between its first and last line (the core is touched only there),
/// so interleaving cannot split a core step; peers talk one-way, so two members never wait on each other.
/// </remarks>
[SiloPinnedPlacement, Reentrant, CollectionAgeLimit(AlwaysActive = true)]
internal sealed partial class GossipGrain(
    IOptions<GossipOptions> options,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    TimeProvider timeProvider,
    LocalGossipVerdicts verdicts,
    ILogger<GossipGrain> logger) : Grain, IGossipGrain
{
    private readonly GossipOptions _options = options.Value;
    private SwimNode _node = null!;
    private long _startTimestamp;
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(2);
    private MembershipVersion _seenVersion = MembershipVersion.MinValue;
    private TimeSpan _nextReconcile;

    private TimeSpan Now => timeProvider.GetElapsedTime(_startTimestamp);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var name = this.GetPrimaryKeyString();
        SiloPinnedActivation.EnsureOnOwnSilo(this, localSilo.Name);
        _startTimestamp = timeProvider.GetTimestamp();

        // The silo's generation grows with every start, so a restarted silo comes back at a higher incarnation than
        // any its previous life reached by refuting, and its new Alive overrides the old Dead everywhere.
        var self = new Member(name, localSilo.SiloAddress.Endpoint.ToString(), localSilo.GatewayAddress is { } gateway ? [new("gateway", gateway.Endpoint.ToString())] : null);
        _node = new SwimNode(self, _options.Swim, new Random(), Now, incarnation: Math.Max(0, localSilo.SiloAddress.Generation));
        _seenVersion = membership.CurrentSnapshot.Version;
        _node.Join(ActivePeers());
        verdicts.Publish(_node.View());
        LogStarted(name, _node.Incarnation);

        this.RegisterGrainTimer(
            static (self, _) => self.OnTick(),
            this,
            new GrainTimerCreationOptions(_options.TickInterval, _options.TickInterval) { Interleave = true, KeepAlive = true });
        Flush();
        return Task.CompletedTask;
    }

    public Task Start() => Task.CompletedTask; // activation is the start

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Deactivated only when its silo stops (the grain is always active): say goodbye rather than go silent, so
        // the others learn of a planned stop within a gossip round instead of a suspicion timeout.
        _node.Leave();
        LogLeft(_node.Name, reason.Description);
        Flush();
        return Task.CompletedTask;
    }

    public Task Deliver(byte[] message)
    {
        _node.Receive(SwimMessageCodec.Decode(message), Now);
        Flush();
        return Task.CompletedTask;
    }

    public Task ReportSuspect(string member)
    {
        ArgumentException.ThrowIfNullOrEmpty(member);
        _node.Tick(Now);
        if (_node.ReportSuspect(member))
        {
            LogReported(_node.Name, member);
        }

        Flush();
        return Task.CompletedTask;
    }

    public Task<GossipView> GetView()
    {
        var now = Now;
        var members = _node.View().Entries.Values
            .Select(e => new GossipMember(e.Member.Name, e.Status.State.ToString(), e.Status.Incarnation, e.Member.Address, e.Member.Tags, now - e.LastChange))
            .ToList();
        return Task.FromResult(new GossipView(_node.Name, _node.Incarnation, _node.LocalHealth, members));
    }

    private Task OnTick()
    {
        _node.Tick(Now);
        ReconcileWithOrleans();
        Flush();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Orleans membership is the seed list. A silo Orleans lists active that this member has never heard of (both
    /// started at once, each before the other was listed) is joined directly, once per membership version. A silo
    /// Orleans lists active that this member holds dead is reached out to every few seconds with a push-pull: SWIM
    /// probes no dead member, so after a partition two sides that each declared the other dead would never speak
    /// again; the exchange tells whichever side is wrongly dead, and it refutes at a higher incarnation.
    /// </summary>
    private void ReconcileWithOrleans()
    {
        var snapshot = membership.CurrentSnapshot;
        var now = Now;
        if (snapshot.Version == _seenVersion && now < _nextReconcile)
        {
            return;
        }

        _seenVersion = snapshot.Version;
        var reconcile = now >= _nextReconcile;
        if (reconcile)
        {
            _nextReconcile = now + ReconcileInterval;
        }

        var strangers = ActivePeers()
            .Where(name => _node.StatusOf(name) is not { } status || (reconcile && status.State == MemberState.Dead))
            .ToList();

        if (strangers.Count > 0)
        {
            _node.Join(strangers);
        }
    }

    private IEnumerable<string> ActivePeers() =>
        membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && m.Name != localSilo.Name)
            .Select(m => m.Name);

    private void Flush()
    {
        if (!_node.HasReady)
        {
            return;
        }

        var ready = _node.GetReady();
        foreach (var message in ready.Messages)
        {
            try
            {
                // One-way: a lost message is SWIM's ordinary case; a member whose silo is gone fails placement fast.
                _ = GrainFactory.GetGrain<IGossipGrain>(message.To).Deliver(SwimMessageCodec.Encode(message));
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                LogSendFailed(e, _node.Name, message.To);
            }
        }

        foreach (var change in ready.Events)
        {
            LogChange(_node.Name, change.Member, change.Change.ToString(), change.Status.ToString());
        }

        if (ready.Events.Count > 0)
        {
            verdicts.Publish(_node.View());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gossip member {Node} started at incarnation {Incarnation}")]
    private partial void LogStarted(string node, int incarnation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gossip member {Node}: {Member} {Change} ({Status})")]
    private partial void LogChange(string node, string member, string change, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gossip member {Node}: the watchdog convicted {Member}; suspecting it now")]
    private partial void LogReported(string node, string member);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gossip member {Node} left the group ({Reason})")]
    private partial void LogLeft(string node, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Gossip member {Node}: could not send to {Peer}")]
    private partial void LogSendFailed(Exception exception, string node, string peer);
}
