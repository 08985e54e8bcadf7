using Microsoft.Extensions.Options;
using Orleans.Patterns.Raft.Membership;

namespace Orleans.Patterns.Raft;

/// <summary>Options of the per-silo Raft replicas (<c>siloBuilder.AddRaftReplicas</c>).</summary>
public sealed class RaftReplicaOptions
{
    /// <summary>
    /// Directory under which each replica keeps its log, hard state and snapshots (<c>{DataDirectory}/raft/{silo name}</c>).
    /// It must be this silo's own disk and survive restarts; a restarted silo with the same name gets its log back.
    /// </summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>
    /// Names of the silos whose replicas form the initial voting configuration. Every replica must be given the same
    /// list; a replica whose silo is not on it waits to be added.
    /// </summary>
    public IList<string> InitialVoters { get; set; } = [];

    /// <summary>Election timeout; the randomized timeout is drawn from [T, 2T) (Raft §5.2).</summary>
    public TimeSpan ElectionTimeout { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Leader heartbeat interval; well below <see cref="ElectionTimeout"/>.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>
    /// Linearizable reads (and lease keep-alives) on the leader are served from its lease while a majority answered a
    /// heartbeat round sent less than <see cref="LeaseDuration"/> ago, instead of each waiting for a round of its own
    /// (thesis §6.4.1). Safe while clocks run at about the same rate (no bound on their offset is needed): the voters
    /// that answered will not elect anyone else for an election timeout after hearing that round, nor for an election
    /// timeout after they restart; a leader that started a transfer stops using its lease for the term. Off: every such
    /// read waits for a heartbeat round (ReadIndex, thesis §6.4), as etcd does by default.
    /// </summary>
    public bool LeaseReads { get; set; } = true;

    /// <summary>
    /// How long a leader's lease lasts after the heartbeat round a majority answered was sent: four fifths of
    /// <see cref="ElectionTimeout"/>, the rest a margin for clocks that run at slightly different rates.
    /// </summary>
    public TimeSpan LeaseDuration => ElectionTimeout * 0.8;

    /// <summary>
    /// How replicas send each other Raft messages: <see cref="RaftPeerTransportKind.Tcp"/> (the default) over a
    /// connection of their own between each pair of silos, or <see cref="RaftPeerTransportKind.Orleans"/> as one-way
    /// grain calls. Either way the chaos rules fault them alike; Tcp falls back to Orleans calls while it has no
    /// connection to a peer.
    /// </summary>
    public RaftPeerTransportKind PeerTransport { get; set; } = RaftPeerTransportKind.Tcp;

    /// <summary>The port the Tcp peer transport listens on, on the silo's own address; 0 takes any free port (peers ask where).</summary>
    public int PeerTransportPort { get; set; }

    /// <summary>
    /// How long a leader holds the coordination batches that arrive after a round settled, waiting for the fronts that
    /// round carried to send their next ones, so that all fronts share one round (<see cref="ProposalGathering{T}"/>);
    /// batches that arrive while a round is out are held for it too, and a wait ends as soon as every awaited front is
    /// back. Zero turns gathering off: each batch is proposed as it arrives, a round of its own. On a local 3-silo
    /// cluster with 16 clients over the three etcd endpoints, 8 ms gave 0.6–0.8× the silos' CPU per put of no
    /// gathering, with a lower p99, in four alternated pairs; 2 ms was shorter than a front's whole cycle there (answer,
    /// clients' next requests, the front's own linger, the call back) and gathered almost nothing.
    /// </summary>
    public TimeSpan GatherWait { get; set; } = TimeSpan.FromMilliseconds(8);

    /// <summary>How often the replica's timer drives the core's clock.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Revisions of coordination-store history kept for watchers and reads at old revisions: once twice this many have
    /// accumulated, the leader proposes a compaction to the last <see cref="CoordinationRetention"/> revisions (one
    /// command through the log, so every replica compacts at the same point). 0 keeps all history.
    /// </summary>
    public long CoordinationRetention { get; set; } = 10_000;

    /// <summary>
    /// Take a snapshot and compact the log once this many entries were applied since the last one. The default is
    /// etcd's (<c>--snapshot-count</c> 100,000). A snapshot holds the replica's Ready loop while the state is encoded and
    /// written: on a local 3-silo cluster at 100 clients, a 3.6 MB state took 20–90 ms each time, which at 10,000 (the
    /// earlier default) came about once a second. Between snapshots the log's entries stay in memory and on disk, and a
    /// restart replays them.
    /// </summary>
    public int SnapshotEveryEntries { get; set; } = 100_000;

    /// <summary>
    /// The leader adds the replica of a silo that joins (learner, then voter) and removes that of a silo declared dead
    /// for <see cref="RemovalGracePeriod"/>. Off: the configuration changes only by operator command.
    /// </summary>
    public bool FollowClusterMembership { get; set; } = true;

    /// <summary>
    /// How long a silo must have been seen dead before its replica is removed. A silo restarted within it keeps its
    /// place and its log; past it, a restart rejoins as a learner and catches up from the leader.
    /// </summary>
    public TimeSpan RemovalGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Automatic removals never leave fewer voters than this; only an operator's forced removal does. Null means a
    /// majority of <see cref="InitialVoters"/>, the fewest copies the deployment was sized to keep.
    /// </summary>
    public int? MinimumVoters { get; set; }

    /// <summary>A learner at most this many entries behind the leader's last index is promoted to voter (thesis §4.2.1).</summary>
    public long CatchUpLag { get; set; } = 64;

    /// <summary>How often the leader compares the configuration with the cluster's membership.</summary>
    public TimeSpan MembershipCheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary><see cref="MinimumVoters"/>, or its default.</summary>
    internal int EffectiveMinimumVoters => MinimumVoters ?? ReplicaSetPlannerOptions.MajorityOf(InitialVoters.Count);
}

/// <summary>How Raft replicas reach each other (<see cref="RaftReplicaOptions.PeerTransport"/>).</summary>
public enum RaftPeerTransportKind
{
    /// <summary>One TCP connection per pair of replicas, frames received straight onto the replica's scheduler.</summary>
    Tcp,

    /// <summary>One-way Orleans grain calls (<c>IRaftReplicaGrain.Deliver</c>).</summary>
    Orleans,
}

internal sealed class RaftReplicaOptionsValidator : IValidateOptions<RaftReplicaOptions>
{
    /// <summary>The longest <see cref="RaftReplicaOptions.GatherWait"/>: a front that stops writing costs the others up to that once.</summary>
    public static readonly TimeSpan MaxGatherWait = TimeSpan.FromMilliseconds(100);

    public ValidateOptionsResult Validate(string? name, RaftReplicaOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("raft:data_directory must name a directory on this silo's disk.");
        }

        if (options.InitialVoters.Count == 0 || options.InitialVoters.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"raft:initial_voters must list at least one silo name; it is [{string.Join(", ", options.InitialVoters)}].");
        }

        if (options.HeartbeatInterval >= options.ElectionTimeout)
        {
            failures.Add($"raft:heartbeat_interval ({options.HeartbeatInterval}) must be shorter than raft:election_timeout ({options.ElectionTimeout}).");
        }

        if (options.TickInterval <= TimeSpan.Zero || options.TickInterval > options.HeartbeatInterval)
        {
            failures.Add($"raft:tick_interval ({options.TickInterval}) must be positive and at most raft:heartbeat_interval ({options.HeartbeatInterval}).");
        }

        if (options.GatherWait < TimeSpan.Zero || options.GatherWait > MaxGatherWait)
        {
            failures.Add($"raft:gather_wait must be between 0 (off) and {MaxGatherWait.TotalMilliseconds} ms; it is {options.GatherWait}.");
        }

        if (options.SnapshotEveryEntries < 1)
        {
            failures.Add($"raft:snapshot_every_entries must be at least 1; it is {options.SnapshotEveryEntries}.");
        }

        if (options.RemovalGracePeriod <= TimeSpan.Zero)
        {
            failures.Add($"raft:removal_grace_period must be positive; it is {options.RemovalGracePeriod}.");
        }

        var majority = ReplicaSetPlannerOptions.MajorityOf(options.InitialVoters.Count);
        if (options.MinimumVoters is { } minimum && (minimum < majority || minimum > options.InitialVoters.Count))
        {
            failures.Add($"raft:minimum_voters must be between a majority of raft:initial_voters ({majority}) and their number ({options.InitialVoters.Count}); it is {minimum}.");
        }

        if (options.CatchUpLag < 0)
        {
            failures.Add($"raft:catch_up_lag must not be negative; it is {options.CatchUpLag}.");
        }

        if (!Enum.IsDefined(options.PeerTransport))
        {
            failures.Add($"raft:peer_transport must be tcp or orleans; it is {options.PeerTransport}.");
        }

        if (options.PeerTransportPort is < 0 or > 65535)
        {
            failures.Add($"raft:peer_transport_port must be between 0 (any free port) and 65535; it is {options.PeerTransportPort}.");
        }

        if (options.MembershipCheckInterval <= TimeSpan.Zero)
        {
            failures.Add($"raft:membership_check_interval must be positive; it is {options.MembershipCheckInterval}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
