using Grpc.Core;
using Orleans.Patterns.Raft;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// etcd's <c>Cluster.MemberList</c>: one member per active silo, with the client URL that silo published in its
/// metadata when it switched the API on (none for a silo without it). Raft learners are marked as such.
/// </summary>
internal sealed class ClusterService(EtcdMember member, ISiloMetadataCache metadata) : Api.Cluster.ClusterBase
{
    public override async Task<Api.MemberListResponse> MemberList(Api.MemberListRequest request, ServerCallContext context)
    {
        var status = await member.LocalStatusAsync(context.CancellationToken);
        var revision = await member.LocalRevisionAsync(context.CancellationToken);
        var response = new Api.MemberListResponse { Header = member.Header(revision) };
        foreach (var silo in member.ActiveMembers())
        {
            var entry = new Api.Member { ID = EtcdMember.IdOf(silo.Name), Name = silo.Name, IsLearner = status.Learners.Contains(silo.Name) };
            // Silos talk Orleans' own protocol to each other; shown so an operator can match members to silos.
            entry.PeerURLs.Add($"orleans://{silo.SiloAddress.Endpoint}");
            if (metadata.GetSiloMetadata(silo.SiloAddress).Metadata.TryGetValue(Orleans.Hosting.EtcdApiHostingExtensions.ClientUrlMetadataKey, out var url))
            {
                entry.ClientURLs.Add(url);
            }

            response.Members.Add(entry);
        }

        return response;
    }
}

/// <summary>
/// etcd's <c>Maintenance</c>, as far as the silos serve it: <c>Status</c> (this silo's replica as etcd reports a member,
/// for <c>etcdctl endpoint status</c>), <c>Alarm</c> (<c>etcdctl alarm list</c> and <c>alarm disarm</c>) and
/// <c>MoveLeader</c> (<c>etcdctl move-leader</c>, a Raft leadership transfer).
/// </summary>
internal sealed class MaintenanceService(EtcdMember member) : Api.Maintenance.MaintenanceBase
{
    /// <summary>How often a move waits to hear the transferee lead, and for how long at most (etcd's request timeout).</summary>
    private static readonly TimeSpan MovePoll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MoveDeadline = TimeSpan.FromSeconds(5);

    /// <summary>
    /// No alarm is ever raised here: etcd raises NOSPACE past its backend quota and CORRUPT from its corruption check,
    /// and the silos have neither. So the list is empty and disarming finds nothing; raising one by hand is refused.
    /// </summary>
    public override async Task<Api.AlarmResponse> Alarm(Api.AlarmRequest request, ServerCallContext context)
    {
        if (request.Action == Api.AlarmRequest.Types.AlarmAction.Activate)
        {
            throw new RpcException(new Status(
                StatusCode.Unimplemented,
                $"etcdserver: alarm {request.Alarm} cannot be activated: this server has no space quota or corruption check to raise alarms from"));
        }

        return new Api.AlarmResponse { Header = member.Header(await member.LocalRevisionAsync(context.CancellationToken)) };
    }

    /// <summary>
    /// Hands leadership to the voter with the given member id and answers once this replica hears it lead. As in etcd,
    /// only the leader takes the request ("not leader" elsewhere; <c>etcdctl move-leader</c> finds the leader itself),
    /// a target that is not a voter is a bad transferee, and a transfer not seen within the deadline times out.
    /// </summary>
    public override async Task<Api.MoveLeaderResponse> MoveLeader(Api.MoveLeaderRequest request, ServerCallContext context)
    {
        var status = await member.LocalStatusAsync(context.CancellationToken);
        if (status.Role != "Leader")
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, EtcdErrors.NotLeader));
        }

        var target = status.Voters.FirstOrDefault(v => EtcdMember.IdOf(v) == request.TargetID)
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, EtcdErrors.BadLeaderTransferee));
        if (target != member.Name)
        {
            try
            {
                await member.TransferLeadershipAsync(target);
            }
            catch (NotLeaderException)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, EtcdErrors.NotLeader));
            }
            catch (InvalidOperationException)
            {
                // The core refused it: a transfer already under way, or this replica just stepped down.
                throw new RpcException(new Status(StatusCode.FailedPrecondition, EtcdErrors.BadLeaderTransferee));
            }

            var started = member.Time.GetTimestamp();
            while ((await member.LocalStatusAsync(context.CancellationToken)).Leader != target)
            {
                if (member.Time.GetElapsedTime(started) >= MoveDeadline)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, EtcdErrors.LeaderTransferTimeout));
                }

                await Task.Delay(MovePoll, member.Time, context.CancellationToken);
            }
        }

        return new Api.MoveLeaderResponse { Header = member.Header(await member.LocalRevisionAsync(context.CancellationToken)) };
    }

    public override async Task<Api.StatusResponse> Status(Api.StatusRequest request, ServerCallContext context)
    {
        var status = await member.LocalStatusAsync(context.CancellationToken);
        var revision = await member.LocalRevisionAsync(context.CancellationToken);
        var response = new Api.StatusResponse
        {
            Header = member.Header(revision),
            Version = EtcdMember.Version,
            // The replica's log, snapshots and hard state on disk: the counterpart of etcd's bbolt file.
            DbSize = status.DiskBytes,
            DbSizeInUse = status.DiskBytes,
            Leader = status.Leader is { } leader ? EtcdMember.IdOf(leader) : 0,
            RaftIndex = (ulong)Math.Max(0, status.CommitIndex),
            RaftTerm = (ulong)Math.Max(0, status.Term),
            RaftAppliedIndex = (ulong)Math.Max(0, status.AppliedIndex),
            IsLearner = status.Learners.Contains(member.Name),
        };
        if (status.Leader is null)
        {
            response.Errors.Add(EtcdErrors.NoLeader);
        }

        return response;
    }
}
