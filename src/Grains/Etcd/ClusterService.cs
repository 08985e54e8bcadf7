using Grpc.Core;
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

/// <summary>etcd's <c>Maintenance.Status</c>: this silo's replica as etcd reports a member (for <c>etcdctl endpoint status</c>).</summary>
internal sealed class MaintenanceService(EtcdMember member) : Api.Maintenance.MaintenanceBase
{
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
