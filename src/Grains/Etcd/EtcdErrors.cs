using Grpc.Core;
using Grpc.Core.Interceptors;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// etcd's gRPC errors: the status code and the exact message etcd sends, because etcd clients recognise errors by
/// their message text (clientv3's <c>rpctypes</c>), e.g. to stop a watch on compaction.
/// </summary>
internal static class EtcdErrors
{
    public const string Compacted = "etcdserver: mvcc: required revision has been compacted";
    public const string FutureRevision = "etcdserver: mvcc: required revision is a future revision";
    public const string EmptyKey = "etcdserver: key is not provided";
    public const string KeyNotFound = "etcdserver: key not found";
    public const string ValueProvided = "etcdserver: value is provided";
    public const string LeaseProvided = "etcdserver: lease is provided";
    public const string DuplicateKey = "etcdserver: duplicate key given in txn request";
    public const string TooManyOps = "etcdserver: too many operations in txn request";
    public const string RequestTooLarge = "etcdserver: request is too large";
    public const string LeaseNotFound = "etcdserver: requested lease not found";
    public const string LeaseExists = "etcdserver: lease already exists";
    public const string LeaseTtlTooLarge = "etcdserver: too large lease TTL";
    public const string InvalidSortOption = "etcdserver: invalid sort option";
    public const string NoLeader = "etcdserver: no leader";
    public const string NotLeader = "etcdserver: not leader";
    public const string BadLeaderTransferee = "etcdserver: bad leader transferee";
    public const string LeaderTransferTimeout = "etcdserver: request timed out, leader transfer took too long";
    public const string Timeout = "etcdserver: request timed out";
    public const string TimeoutUnknownOutcome = "etcdserver: request timed out, possibly due to previous leader failure";

    /// <summary>A store refusal as etcd reports it.</summary>
    public static RpcException ToRpc(CoordinationException e) => e.Code switch
    {
        CoordinationErrorCode.Compacted => new(new Status(StatusCode.OutOfRange, Compacted)),
        CoordinationErrorCode.FutureRevision => new(new Status(StatusCode.OutOfRange, FutureRevision)),
        CoordinationErrorCode.EmptyKey => new(new Status(StatusCode.InvalidArgument, EmptyKey)),
        CoordinationErrorCode.KeyNotFound => new(new Status(StatusCode.InvalidArgument, KeyNotFound)),
        CoordinationErrorCode.ValueProvided => new(new Status(StatusCode.InvalidArgument, ValueProvided)),
        CoordinationErrorCode.LeaseProvided => new(new Status(StatusCode.InvalidArgument, LeaseProvided)),
        CoordinationErrorCode.DuplicateKey => new(new Status(StatusCode.InvalidArgument, DuplicateKey)),
        CoordinationErrorCode.TooManyOps => new(new Status(StatusCode.InvalidArgument, TooManyOps)),
        // etcd limits only whole requests; a key or value over this store's own limit is refused the same way.
        CoordinationErrorCode.RequestTooLarge or CoordinationErrorCode.KeyTooLarge or CoordinationErrorCode.ValueTooLarge =>
            new(new Status(StatusCode.InvalidArgument, RequestTooLarge)),
        CoordinationErrorCode.LeaseNotFound => new(new Status(StatusCode.NotFound, LeaseNotFound)),
        CoordinationErrorCode.LeaseExists => new(new Status(StatusCode.FailedPrecondition, LeaseExists)),
        CoordinationErrorCode.LeaseTtlTooLarge => new(new Status(StatusCode.OutOfRange, LeaseTtlTooLarge)),
        // The session that carried the write was forgotten, so whether an earlier try applied is unknown: etcd says
        // the same of a proposal lost with a leader.
        CoordinationErrorCode.SessionExpired => new(new Status(StatusCode.Unavailable, TimeoutUnknownOutcome)),
        _ => new(new Status(StatusCode.Internal, $"etcdserver: {e.Message}")),
    };

    /// <summary>
    /// Any failure of a handler as a gRPC status: store refusals as etcd's, no reachable leader as etcd's "no leader"
    /// or "request timed out" (both UNAVAILABLE, which etcd clients retry), a cancelled call as CANCELLED.
    /// </summary>
    public static RpcException? ToRpc(Exception e, CancellationToken callCancelled) => e switch
    {
        RpcException => null,
        CoordinationException coordination => ToRpc(coordination),
        OperationCanceledException when callCancelled.IsCancellationRequested => new(new Status(StatusCode.Cancelled, "context canceled")),
        NotLeaderException => new(new Status(StatusCode.Unavailable, NoLeader)),
        TimeoutException or OperationCanceledException => new(new Status(StatusCode.Unavailable, Timeout)),
        InvalidOperationException { Message: var m } when m.StartsWith("No Raft replicas", StringComparison.Ordinal) => new(new Status(StatusCode.Unavailable, NoLeader)),
        OrleansException => new(new Status(StatusCode.Unavailable, $"{Timeout} ({e.Message})")),
        _ => null,
    };
}

/// <summary>Turns every handler's exceptions into etcd's statuses (<see cref="EtcdErrors.ToRpc(Exception, CancellationToken)"/>).</summary>
internal sealed class EtcdErrorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (EtcdErrors.ToRpc(e, context.CancellationToken) is { } rpc)
        {
            throw rpc;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (EtcdErrors.ToRpc(e, context.CancellationToken) is { } rpc)
        {
            throw rpc;
        }
    }
}
