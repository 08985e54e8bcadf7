extern alias client;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using Api = client::Orleans.Patterns.Etcd.Api;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>
/// The Watch stream at the gRPC level, for what etcdctl cannot send: several watchers on one stream with chosen ids,
/// filters, cancel, progress requests and progress notifications.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdWatchStreamTests(EtcdClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Watchers_on_one_stream_get_their_own_events_until_canceled_and_progress_never_runs_ahead()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Endpoint(EtcdClusterFixture.Silos[1]));
        var kv = new Api.KV.KVClient(channel);
        using var call = new Api.Watch.WatchClient(channel).Watch();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var responses = call.ResponseStream;

        var start = (await kv.PutAsync(new Api.PutRequest { Key = Bs("/ws/a"), Value = Bs("0") })).Header.Revision;
        var all = new Api.WatchCreateRequest { Key = Bs("/ws/"), RangeEnd = Bs("/ws0"), StartRevision = start, WatchId = 7 };
        var deletesOnly = new Api.WatchCreateRequest { Key = Bs("/ws/a"), StartRevision = start, WatchId = 8, PrevKv = true };
        deletesOnly.Filters.Add(Api.WatchCreateRequest.Types.FilterType.Noput);
        var notified = new Api.WatchCreateRequest { Key = Bs("/ws/none"), ProgressNotify = true };
        await call.RequestStream.WriteAsync(new Api.WatchRequest { CreateRequest = all });
        await call.RequestStream.WriteAsync(new Api.WatchRequest { CreateRequest = deletesOnly });
        await call.RequestStream.WriteAsync(new Api.WatchRequest { CreateRequest = notified });
        // A chosen id already in use is refused, and the stream goes on.
        await call.RequestStream.WriteAsync(new Api.WatchRequest { CreateRequest = new Api.WatchCreateRequest { Key = Bs("/ws/x"), WatchId = 7 } });

        // Created answers come in the order of the creates; the automatic id skips the ones in use.
        var created = new List<Api.WatchResponse>();
        var events = new List<(long Watch, Api.Event Event)>();
        var progress = new List<Api.WatchResponse>();
        async Task<Api.WatchResponse> NextAsync()
        {
            Assert.True(await responses.MoveNext(timeout.Token), "the watch stream ended");
            var r = responses.Current;
            output.WriteLine($"watch {r.WatchId} created={r.Created} canceled={r.Canceled} rev={r.Header.Revision} events={r.Events.Count} {r.CancelReason}");
            if (r.Created)
            {
                created.Add(r);
            }
            else if (r.Events.Count > 0)
            {
                events.AddRange(r.Events.Select(e => (r.WatchId, e)));
            }
            else if (!r.Canceled)
            {
                progress.Add(r);
            }

            return r;
        }

        while (created.Count < 4)
        {
            await NextAsync();
        }

        Assert.Equal([7L, 8L, 0L, -1L], created.Select(c => c.WatchId));
        Assert.True(created[3].Canceled);
        Assert.Contains("already in use", created[3].CancelReason);

        await kv.PutAsync(new Api.PutRequest { Key = Bs("/ws/b"), Value = Bs("1") });
        await kv.DeleteRangeAsync(new Api.DeleteRangeRequest { Key = Bs("/ws/a") });
        while (events.Count < 4)
        {
            await NextAsync();
        }

        Assert.Equal([(7L, "/ws/a", start), (7L, "/ws/b", start + 1), (7L, "/ws/a", start + 2)], events.Where(e => e.Watch == 7).Select(e => (e.Watch, e.Event.Kv.Key.ToStringUtf8(), e.Event.Kv.ModRevision)));
        var delete = events.Single(e => e.Watch == 8).Event;
        Assert.Equal((Api.Event.Types.EventType.Delete, "0"), (delete.Type, delete.PrevKv.Value.ToStringUtf8()));

        // The watcher that asked for progress notifications gets empty answers with a revision; the others do not.
        while (!progress.Any(p => p.WatchId == 0))
        {
            await NextAsync();
        }

        Assert.All(progress, p => Assert.Equal(0, p.WatchId));

        // Cancel watcher 7: its canceled answer, then nothing more from it.
        await call.RequestStream.WriteAsync(new Api.WatchRequest { CancelRequest = new Api.WatchCancelRequest { WatchId = 7 } });
        Api.WatchResponse canceled;
        do
        {
            canceled = await NextAsync();
        }
        while (!(canceled.Canceled && canceled.WatchId == 7));

        // A progress request: one answer for the stream (watch id -1) at a revision every watcher has delivered.
        await kv.PutAsync(new Api.PutRequest { Key = Bs("/ws/c"), Value = Bs("2") });
        var seen = events.Count;
        await call.RequestStream.WriteAsync(new Api.WatchRequest { ProgressRequest = new Api.WatchProgressRequest() });
        Api.WatchResponse stream;
        do
        {
            stream = await NextAsync();
        }
        while (stream.WatchId != -1);

        Assert.Equal(seen, events.Count); // watcher 7 was canceled: /ws/c reached no one
        Assert.True(stream.Header.Revision >= start + 2, $"progress at {stream.Header.Revision}, before the delete at {start + 2} that every watcher saw");
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task Unary_refusals_reach_a_grpc_client_with_etcds_status_and_message()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Endpoint(EtcdClusterFixture.Silos[0]));
        var kv = new Api.KV.KVClient(channel);
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new Api.PutRequest { Key = Bs("/refused/k"), IgnoreValue = true }));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: key not found"), (missing.StatusCode, missing.Status.Detail));
        var lease = await Assert.ThrowsAsync<RpcException>(async () => await new Api.Lease.LeaseClient(channel).LeaseRevokeAsync(new Api.LeaseRevokeRequest { ID = 123456789 }));
        Assert.Equal((StatusCode.NotFound, "etcdserver: requested lease not found"), (lease.StatusCode, lease.Status.Detail));
        var sort = await Assert.ThrowsAsync<RpcException>(async () => await kv.RangeAsync(new Api.RangeRequest { Key = Bs("a"), SortTarget = (Api.RangeRequest.Types.SortTarget)42 }));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: invalid sort option"), (sort.StatusCode, sort.Status.Detail));
    }

    private static ByteString Bs(string text) => ByteString.CopyFromUtf8(text);
}
