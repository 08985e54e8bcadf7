using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// This silo as an etcd member: its ids, its coordination client (writes through the leader, serializable reads and
/// watches from this silo's own replica) and the response header every answer carries.
/// </summary>
internal sealed class EtcdMember
{
    /// <summary>What <c>etcdctl endpoint status</c> shows as the version: etcd's API level and who serves it.</summary>
    public const string Version = "3.4.0-orleans-patterns";

    private static readonly TimeSpan TermRefresh = TimeSpan.FromSeconds(1);

    private readonly IGrainFactory _grains;
    private readonly IClusterMembershipService _membership;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private long _term;
    private long _termReadAt;

    public EtcdMember(
        IGrainFactory grains, ILocalSiloDetails silo, IClusterMembershipService membership,
        IOptions<ClusterOptions> cluster, IOptions<EtcdApiOptions> options, TimeProvider time)
    {
        _grains = grains;
        _membership = membership;
        _time = time;
        Name = silo.Name;
        MemberId = IdOf(Name);
        ClusterId = IdOf($"{cluster.Value.ServiceId}/{cluster.Value.ClusterId}");
        Options = options.Value;
        // A fresh client id per process start: the store remembers sessions by id, so a reused one would have its
        // first writes taken for duplicates of the previous life's.
        Client = new CoordinationClient(grains, ActiveSilos, $"{Name}/etcd/{Guid.NewGuid():N}", Options.Sessions) { LocalReplica = Name };
    }

    public string Name { get; }

    public ulong MemberId { get; }

    public ulong ClusterId { get; }

    public EtcdApiOptions Options { get; }

    public CoordinationClient Client { get; }

    public TimeProvider Time => _time;

    /// <summary>Cancelled when the endpoint stops, so open streams end instead of holding the shutdown up.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The id etcd clients see for a member: a stable 64-bit hash of the silo's name (never 0).</summary>
    public static ulong IdOf(string name)
    {
        var id = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(name));
        return id == 0 ? 1 : id;
    }

    /// <summary>The names of the silos membership lists as active: the replicas the client may talk to.</summary>
    public IReadOnlyList<string> ActiveSilos() =>
        [.. _membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).Order(StringComparer.Ordinal)];

    public IEnumerable<ClusterMember> ActiveMembers() =>
        _membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).OrderBy(m => m.Name, StringComparer.Ordinal);

    /// <summary>
    /// The header of an answer at store revision <paramref name="revision"/>. The term is this replica's as last read
    /// (at most about a second old): etcd's header term is also the answering member's view.
    /// </summary>
    public Api.ResponseHeader Header(long revision)
    {
        var now = _time.GetTimestamp();
        var readAt = Interlocked.Read(ref _termReadAt);
        if (_time.GetElapsedTime(readAt, now) >= TermRefresh && Interlocked.CompareExchange(ref _termReadAt, now, readAt) == readAt)
        {
            _ = RefreshTermAsync();
        }

        return new Api.ResponseHeader { ClusterId = ClusterId, MemberId = MemberId, Revision = revision, RaftTerm = (ulong)Math.Max(0, Interlocked.Read(ref _term)) };
    }

    /// <summary>This silo's replica's status; also refreshes the term headers carry.</summary>
    public async Task<RaftReplicaStatus> LocalStatusAsync(CancellationToken cancellationToken)
    {
        var status = await _grains.GetGrain<IRaftReplicaGrain>(Name).GetStatus().WaitAsync(cancellationToken);
        Interlocked.Exchange(ref _term, status.Term);
        return status;
    }

    /// <summary>The store revision this silo's replica has applied (a serializable read, no trip to the leader).</summary>
    public async Task<long> LocalRevisionAsync(CancellationToken cancellationToken) =>
        (await Client.RangeAsync(new RangeRequest([0]) { CountOnly = true, Serializable = true }, cancellationToken)).Revision;

    /// <summary>Asks this silo's replica, the leader, to hand leadership to <paramref name="target"/> (a Raft transfer).</summary>
    public Task TransferLeadershipAsync(string target) => _grains.GetGrain<IRaftReplicaGrain>(Name).TransferLeadership(target);

    public void Stop() => _stopping.Cancel();

    private async Task RefreshTermAsync()
    {
        try
        {
            await LocalStatusAsync(_stopping.Token);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException)
        {
            // The replica is busy or its silo is stopping; the next header tries again.
        }
    }
}
