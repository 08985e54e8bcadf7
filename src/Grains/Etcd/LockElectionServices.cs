using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Orleans.Patterns.Coordination;
using ElectionPb = Orleans.Patterns.Etcd.Api.Election;
using LockPb = Orleans.Patterns.Etcd.Api.Lock;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// etcd's Lock service on <see cref="LeaseQueue"/>: the client brings a lease and keeps it alive; the lock's key is
/// <c>name/lease-in-hex</c> and its create revision the fencing token. A lease that ends while queued never gets the lock.
/// </summary>
internal sealed class LockService(EtcdMember member) : LockPb.Lock.LockBase
{
    public override async Task<LockPb.LockResponse> Lock(LockPb.LockRequest request, ServerCallContext context)
    {
        var name = EtcdServiceInputs.Name(request.Name, "lock");
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, member.Stopping);
        var held = await EtcdServiceInputs.AcquireAsync(member, name, request.Lease, [], call.Token);
        return new LockPb.LockResponse { Header = member.Header(held.ModRevision), Key = ByteString.CopyFrom(held.Key) };
    }

    public override async Task<LockPb.UnlockResponse> Unlock(LockPb.UnlockRequest request, ServerCallContext context)
    {
        // As etcd: unlocking deletes the key, whoever holds it now.
        var deleted = await member.Client.DeleteRangeAsync(new DeleteRangeRequest(request.Key.ToByteArray()), context.CancellationToken);
        return new LockPb.UnlockResponse { Header = member.Header(deleted.Revision) };
    }
}

/// <summary>etcd's Election service on <see cref="LeaseQueue"/>: campaign, proclaim, resign, leader, observe.</summary>
internal sealed class ElectionService(EtcdMember member) : ElectionPb.Election.ElectionBase
{
    public const string NotLeader = "election: not leader";
    public const string NoLeader = "election: no leader";

    public override async Task<ElectionPb.CampaignResponse> Campaign(ElectionPb.CampaignRequest request, ServerCallContext context)
    {
        var name = EtcdServiceInputs.Name(request.Name, "election");
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, member.Stopping);
        var leader = await EtcdServiceInputs.AcquireAsync(member, name, request.Lease, request.Value.ToByteArray(), call.Token);
        if (!leader.Value.AsSpan().SequenceEqual(request.Value.Span))
        {
            // Campaigning again with the same lease keeps the place in line and announces the new value.
            await LeaseQueue.ProclaimAsync(member.Client, leader.Key, leader.CreateRevision, request.Lease, request.Value.ToByteArray(), call.Token);
        }

        return new ElectionPb.CampaignResponse
        {
            Header = member.Header(leader.ModRevision),
            Leader = new ElectionPb.LeaderKey { Name = request.Name, Key = ByteString.CopyFrom(leader.Key), Rev = leader.CreateRevision, Lease = request.Lease },
        };
    }

    public override async Task<ElectionPb.ProclaimResponse> Proclaim(ElectionPb.ProclaimRequest request, ServerCallContext context)
    {
        var leader = EtcdServiceInputs.Leader(request.Leader);
        var ok = await LeaseQueue.ProclaimAsync(member.Client, leader.Key.ToByteArray(), leader.Rev, leader.Lease, request.Value.ToByteArray(), context.CancellationToken);
        return ok
            ? new ElectionPb.ProclaimResponse { Header = member.Header(0) }
            : throw new RpcException(new Status(StatusCode.FailedPrecondition, NotLeader));
    }

    public override async Task<ElectionPb.ResignResponse> Resign(ElectionPb.ResignRequest request, ServerCallContext context)
    {
        var leader = EtcdServiceInputs.Leader(request.Leader);
        await LeaseQueue.ReleaseAsync(member.Client, leader.Key.ToByteArray(), leader.Rev, context.CancellationToken);
        return new ElectionPb.ResignResponse { Header = member.Header(0) };
    }

    public override async Task<ElectionPb.LeaderResponse> Leader(ElectionPb.LeaderRequest request, ServerCallContext context)
    {
        var (head, revision) = await LeaseQueue.HeadAsync(member.Client, EtcdServiceInputs.Name(request.Name, "election"), context.CancellationToken);
        return head is null
            ? throw new RpcException(new Status(StatusCode.NotFound, NoLeader))
            : new ElectionPb.LeaderResponse { Header = member.Header(revision), Kv = EtcdMapping.ToPb(head) };
    }

    /// <summary>The leader now (if any), then each new leader or value; runs until the client goes or the silo stops.</summary>
    public override async Task Observe(ElectionPb.LeaderRequest request, IServerStreamWriter<ElectionPb.LeaderResponse> responseStream, ServerCallContext context)
    {
        var name = EtcdServiceInputs.Name(request.Name, "election");
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, member.Stopping);
        KeyValue? last = null;
        try
        {
            while (!call.IsCancellationRequested)
            {
                var (head, revision) = await LeaseQueue.HeadAsync(member.Client, name, call.Token);
                if (head is not null && (last is null || !last.Key.AsSpan().SequenceEqual(head.Key) || last.ModRevision != head.ModRevision))
                {
                    await responseStream.WriteAsync(new ElectionPb.LeaderResponse { Header = member.Header(revision), Kv = EtcdMapping.ToPb(head) }, call.Token);
                }

                last = head;
                await LeaseQueue.WaitForChangeAsync(member.Client, name, revision + 1, call.Token);
            }
        }
        catch (OperationCanceledException) when (call.IsCancellationRequested)
        {
            // The client left, or the endpoint is stopping: the stream just ends.
        }
    }
}

/// <summary>Checks of the Lock and Election services' inputs, with etcd's wording where etcd has one.</summary>
internal static class EtcdServiceInputs
{
    public static string Name(ByteString name, string what) =>
        name.IsEmpty ? throw new RpcException(new Status(StatusCode.InvalidArgument, $"{what} name must be provided")) : Encoding.UTF8.GetString(name.Span);

    public static ElectionPb.LeaderKey Leader(ElectionPb.LeaderKey? leader) =>
        leader is null || leader.Key.IsEmpty
            ? throw new RpcException(new Status(StatusCode.InvalidArgument, "\"leader\" field must be provided"))
            : leader;

    /// <summary>Queues and waits; a lease that is missing or ends while queued is etcd's "lease not found".</summary>
    public static async Task<KeyValue> AcquireAsync(EtcdMember member, string name, long lease, byte[] value, CancellationToken cancellationToken)
    {
        if (lease == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a lease must be provided: the lock or leadership lasts as long as it"));
        }

        try
        {
            return await LeaseQueue.AcquireAsync(member.Client, name, lease, value, cancellationToken);
        }
        catch (LeaseLostException e)
        {
            throw new RpcException(new Status(StatusCode.NotFound, EtcdErrors.LeaseNotFound), e.Message);
        }
    }
}
