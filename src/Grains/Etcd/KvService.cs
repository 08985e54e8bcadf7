using Grpc.Core;

namespace Orleans.Patterns.Etcd;

/// <summary>etcd's KV service on the coordination store: writes through the Raft leader, serializable ranges from this silo's replica.</summary>
internal sealed class KvService(EtcdMember member) : Api.KV.KVBase
{
    public override async Task<Api.RangeResponse> Range(Api.RangeRequest request, ServerCallContext context) =>
        EtcdMapping.ToPb(await member.Client.RangeAsync(EtcdMapping.ToCore(request), context.CancellationToken), member.Header);

    public override async Task<Api.PutResponse> Put(Api.PutRequest request, ServerCallContext context) =>
        EtcdMapping.ToPb(await member.Client.PutAsync(EtcdMapping.ToCore(request), context.CancellationToken), member.Header);

    public override async Task<Api.DeleteRangeResponse> DeleteRange(Api.DeleteRangeRequest request, ServerCallContext context) =>
        EtcdMapping.ToPb(await member.Client.DeleteRangeAsync(EtcdMapping.ToCore(request), context.CancellationToken), member.Header);

    public override async Task<Api.TxnResponse> Txn(Api.TxnRequest request, ServerCallContext context) =>
        EtcdMapping.ToPb(await member.Client.TxnAsync(EtcdMapping.ToCore(request), context.CancellationToken), member.Header);

    /// <summary><c>physical</c> needs nothing more: the store drops the history when the compaction applies.</summary>
    public override async Task<Api.CompactionResponse> Compact(Api.CompactionRequest request, ServerCallContext context) =>
        new() { Header = member.Header((await member.Client.CompactAsync(request.Revision, context.CancellationToken)).Revision) };
}
