using Grpc.Core;

namespace Orleans.Patterns.Etcd;

/// <summary>etcd's Lease service: every call on the leader's clock, through the Raft leader.</summary>
internal sealed class LeaseService(EtcdMember member) : Api.Lease.LeaseBase
{
    public override async Task<Api.LeaseGrantResponse> LeaseGrant(Api.LeaseGrantRequest request, ServerCallContext context)
    {
        var granted = await member.Client.LeaseGrantAsync(request.TTL, request.ID, context.CancellationToken);
        return new Api.LeaseGrantResponse { Header = member.Header(granted.Revision), ID = granted.ID, TTL = granted.TTL };
    }

    public override async Task<Api.LeaseRevokeResponse> LeaseRevoke(Api.LeaseRevokeRequest request, ServerCallContext context) =>
        new() { Header = member.Header((await member.Client.LeaseRevokeAsync(request.ID, context.CancellationToken)).Revision) };

    /// <summary>
    /// One answer per request, in order; a lease that no longer exists answers TTL 0 (as etcd does), and the client
    /// decides what to do with that. The stream ends when the client closes its side or the endpoint stops.
    /// </summary>
    public override async Task LeaseKeepAlive(
        IAsyncStreamReader<Api.LeaseKeepAliveRequest> requestStream, IServerStreamWriter<Api.LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, member.Stopping);
        try
        {
            while (await requestStream.MoveNext(call.Token))
            {
                var renewed = await member.Client.LeaseKeepAliveAsync(requestStream.Current.ID, call.Token);
                await responseStream.WriteAsync(new Api.LeaseKeepAliveResponse { Header = member.Header(renewed.Revision), ID = renewed.ID, TTL = renewed.TTL }, call.Token);
            }
        }
        catch (OperationCanceledException) when (member.Stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "etcdserver: server stopped"));
        }
    }

    public override async Task<Api.LeaseTimeToLiveResponse> LeaseTimeToLive(Api.LeaseTimeToLiveRequest request, ServerCallContext context) =>
        EtcdMapping.ToPb(await member.Client.LeaseTimeToLiveAsync(request.ID, request.Keys, context.CancellationToken), member.Header);

    public override async Task<Api.LeaseLeasesResponse> LeaseLeases(Api.LeaseLeasesRequest request, ServerCallContext context) =>
        EtcdMapping.ToPb(await member.Client.LeasesAsync(context.CancellationToken), member.Header);
}
