using Grpc.Core;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// etcd's Watch service: one bidirectional stream carries any number of watchers (<see cref="WatchStream"/>). The
/// stream lives until the client cancels the call, even after it closed its sending side, as in etcd.
/// </summary>
internal sealed partial class WatchService(EtcdMember member, ILogger<WatchService> logger) : Api.Watch.WatchBase
{
    public override async Task Watch(
        IAsyncStreamReader<Api.WatchRequest> requestStream, IServerStreamWriter<Api.WatchResponse> responseStream, ServerCallContext context)
    {
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, member.Stopping);
        await using var stream = new WatchStream(member, logger, call.Token);
        var writer = stream.WriteToAsync(responseStream);
        try
        {
            while (await requestStream.MoveNext(call.Token))
            {
                await stream.HandleAsync(requestStream.Current);
            }

            await writer; // ends when the call is cancelled
        }
        catch (OperationCanceledException) when (call.IsCancellationRequested)
        {
            // The client went away or the endpoint stops: nothing to answer.
        }
        finally
        {
            // Whatever ended the loop, the watchers and the writer stop before the stream is disposed.
            await call.CancelAsync();
        }
    }
}
