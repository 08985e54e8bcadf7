using System.Threading.Channels;
using Grpc.Core;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// The watchers of one Watch stream. Requests are handled in arrival order, and each create is answered (created, with
/// its id) before the next request is read, because etcd clients pair created answers with their creates by order.
/// Each watcher then runs <see cref="CoordinationClient.WatchAsync"/> on this silo's replica and forwards what it
/// yields; all answers leave through one bounded channel, so one writer owns the gRPC stream and a client that reads
/// slowly slows its watchers' polling down (HTTP/2 flow control reaches back to the store) instead of piling answers up
/// in memory. A cancelled watcher sends nothing after its canceled answer: both pass through the watcher's gate.
/// </summary>
internal sealed partial class WatchStream(EtcdMember member, ILogger logger, CancellationToken streamCancelled) : IAsyncDisposable
{
    /// <summary>etcd's id for answers that belong to no watcher (clientv3's <c>InvalidWatchID</c>).</summary>
    public const long NoWatch = -1;

    private const int QueuedAnswers = 256;

    private readonly Channel<Api.WatchResponse> _out =
        Channel.CreateBounded<Api.WatchResponse>(new BoundedChannelOptions(QueuedAnswers) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Dictionary<long, Watcher> _watchers = [];
    private readonly List<Watcher> _created = [];
    private readonly Lock _lock = new();
    private long _nextId;

    /// <summary>Writes every answer to the client until the stream is cancelled.</summary>
    public async Task WriteToAsync(IServerStreamWriter<Api.WatchResponse> responses)
    {
        await foreach (var response in _out.Reader.ReadAllAsync(streamCancelled))
        {
            await responses.WriteAsync(response, streamCancelled);
        }
    }

    public async Task HandleAsync(Api.WatchRequest request)
    {
        switch (request.RequestUnionCase)
        {
            case Api.WatchRequest.RequestUnionOneofCase.CreateRequest:
                await CreateAsync(request.CreateRequest);
                break;
            case Api.WatchRequest.RequestUnionOneofCase.CancelRequest:
                await CancelAsync(request.CancelRequest.WatchId);
                break;
            case Api.WatchRequest.RequestUnionOneofCase.ProgressRequest:
                await ProgressAsync();
                break;
            default:
                // etcd ignores a request that sets none of the three.
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Watcher[] all;
        lock (_lock)
        {
            all = [.. _created];
            _watchers.Clear();
        }

        foreach (var watcher in all)
        {
            watcher.Stop();
        }

        await Task.WhenAll(all.Select(w => w.Running));
        foreach (var watcher in all)
        {
            watcher.Dispose();
        }

        _out.Writer.TryComplete();
    }

    private async Task CreateAsync(Api.WatchCreateRequest create)
    {
        WatchRequest request;
        try
        {
            request = EtcdMapping.ToCore(create);
        }
        catch (RpcException e)
        {
            await RefuseAsync(e.Status.Detail);
            return;
        }

        long id;
        lock (_lock)
        {
            if (create.WatchId != 0)
            {
                if (create.WatchId < 0 || _watchers.ContainsKey(create.WatchId))
                {
                    id = NoWatch;
                }
                else
                {
                    id = create.WatchId;
                }
            }
            else
            {
                while (_watchers.ContainsKey(_nextId))
                {
                    _nextId++;
                }

                id = _nextId++;
            }
        }

        if (id == NoWatch)
        {
            await RefuseAsync($"mvcc: watch id {create.WatchId} is invalid or already in use on this stream");
            return;
        }

        // "From now" is fixed here by a linearizable read, so a watch created after a write a client saw acknowledged
        // never misses it, even on a replica that lags. A given start is served as is.
        long current;
        try
        {
            if (request.StartRevision <= 0)
            {
                current = (await member.Client.RangeAsync(new RangeRequest(request.Key) { RangeEnd = request.RangeEnd, CountOnly = true }, streamCancelled)).Revision;
                request = request with { StartRevision = current + 1 };
            }
            else
            {
                current = await member.LocalRevisionAsync(streamCancelled);
            }
        }
        catch (Exception e) when (!streamCancelled.IsCancellationRequested && EtcdErrors.ToRpc(e, streamCancelled) is { } refusal)
        {
            // No leader to fix "now" with (or the key is refused): this create fails, the stream and its watchers go on.
            await RefuseAsync(refusal.Status.Detail);
            return;
        }

        var watcher = new Watcher(id, request, create.ProgressNotify, CancellationTokenSource.CreateLinkedTokenSource(streamCancelled));
        lock (_lock)
        {
            _watchers[id] = watcher;
            _created.Add(watcher);
        }

        await _out.Writer.WriteAsync(new Api.WatchResponse { Header = member.Header(current), WatchId = id, Created = true }, streamCancelled);
        watcher.Running = RunAsync(watcher);
    }

    private ValueTask RefuseAsync(string reason) =>
        _out.Writer.WriteAsync(new Api.WatchResponse { Header = member.Header(0), WatchId = NoWatch, Created = true, Canceled = true, CancelReason = reason }, streamCancelled);

    private async Task CancelAsync(long id)
    {
        Watcher? watcher;
        lock (_lock)
        {
            if (_watchers.Remove(id, out watcher))
            {
                watcher.Stop();
            }
        }

        // etcd answers only the cancel of a watcher it has.
        if (watcher is not null)
        {
            await watcher.FinishAsync(_out.Writer, new Api.WatchResponse { Header = member.Header(watcher.DeliveredThrough), WatchId = id, Canceled = true }, streamCancelled);
        }
    }

    /// <summary>
    /// etcd's progress answer: a revision every watcher of the stream has delivered everything up to, so no event at or
    /// below it can follow. With no watchers, this replica's revision.
    /// </summary>
    private async Task ProgressAsync()
    {
        long? through;
        lock (_lock)
        {
            through = _watchers.Count == 0 ? null : _watchers.Values.Min(w => w.DeliveredThrough);
        }

        var revision = through ?? await member.LocalRevisionAsync(streamCancelled);
        await _out.Writer.WriteAsync(new Api.WatchResponse { Header = member.Header(revision), WatchId = NoWatch }, streamCancelled);
    }

    private async Task RunAsync(Watcher watcher)
    {
        await Task.Yield();
        try
        {
            var time = member.Time;
            var lastSent = time.GetTimestamp();
            await foreach (var answer in member.Client.WatchAsync(watcher.Request, member.Options.WatchPollInterval, watcher.Cancelled))
            {
                if (answer.Events.Count == 0)
                {
                    watcher.DeliveredThrough = Math.Max(watcher.DeliveredThrough, answer.Revision);
                    if (watcher.ProgressNotify && time.GetElapsedTime(lastSent) >= member.Options.WatchProgressInterval)
                    {
                        await watcher.SendAsync(_out.Writer, new Api.WatchResponse { Header = member.Header(answer.Revision), WatchId = watcher.Id });
                        lastSent = time.GetTimestamp();
                    }

                    continue;
                }

                var response = new Api.WatchResponse { Header = member.Header(answer.Revision), WatchId = watcher.Id };
                response.Events.AddRange(answer.Events.Select(EtcdMapping.ToPb));
                await watcher.SendAsync(_out.Writer, response);
                watcher.DeliveredThrough = answer.Events[^1].Kv.ModRevision;
                lastSent = time.GetTimestamp();
            }
        }
        catch (OperationCanceledException) when (watcher.Cancelled.IsCancellationRequested)
        {
            // Cancelled by the client or with the stream.
        }
        catch (CoordinationException e) when (e.Code == CoordinationErrorCode.Compacted)
        {
            // As etcd: the watcher is canceled with the compacted revision, and the client must start over above it.
            await EndAsync(watcher, new Api.WatchResponse
            {
                Header = member.Header(watcher.DeliveredThrough), WatchId = watcher.Id, Canceled = true, CompactRevision = e.Error.Revision, CancelReason = EtcdErrors.Compacted,
            });
        }
        catch (Exception e) when (e is CoordinationException or OrleansException or TimeoutException or InvalidOperationException)
        {
            LogWatcherFailed(logger, e, watcher.Id, member.Name);
            await EndAsync(watcher, new Api.WatchResponse
            {
                Header = member.Header(watcher.DeliveredThrough), WatchId = watcher.Id, Canceled = true, CancelReason = EtcdErrors.ToRpc(e, default)?.Status.Detail ?? e.Message,
            });
        }
    }

    private async Task EndAsync(Watcher watcher, Api.WatchResponse last)
    {
        lock (_lock)
        {
            _watchers.Remove(watcher.Id);
        }

        try
        {
            await watcher.FinishAsync(_out.Writer, last, streamCancelled);
        }
        catch (OperationCanceledException) when (streamCancelled.IsCancellationRequested)
        {
            // The stream ended first: nobody is left to tell.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd watcher {WatchId} on {Silo} ended with an error")]
    private static partial void LogWatcherFailed(ILogger logger, Exception e, long watchId, string silo);

    private sealed class Watcher(long id, WatchRequest request, bool progressNotify, CancellationTokenSource cancel)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private bool _finished;
        private long _deliveredThrough = request.StartRevision - 1;

        public long Id { get; } = id;

        public WatchRequest Request { get; } = request;

        public bool ProgressNotify { get; } = progressNotify;

        public CancellationToken Cancelled { get; } = cancel.Token;

        public Task Running { get; set; } = Task.CompletedTask;

        /// <summary>Every event of this watcher up to this revision has been queued for the client.</summary>
        public long DeliveredThrough
        {
            get => Interlocked.Read(ref _deliveredThrough);
            set => Interlocked.Exchange(ref _deliveredThrough, value);
        }

        /// <summary>Queues an answer of this watcher, waiting while the stream's queue is full; a cancelled watcher's is dropped.</summary>
        public async Task SendAsync(ChannelWriter<Api.WatchResponse> output, Api.WatchResponse response)
        {
            await _gate.WaitAsync(Cancelled);
            try
            {
                if (!_finished)
                {
                    await output.WriteAsync(response, Cancelled);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>
        /// The watcher's last answer; nothing it sends afterwards goes out. Called after <see cref="Stop"/>, so a send
        /// waiting on a full queue gives the gate up at once.
        /// </summary>
        public async Task FinishAsync(ChannelWriter<Api.WatchResponse> output, Api.WatchResponse last, CancellationToken streamCancelled)
        {
            await _gate.WaitAsync(streamCancelled);
            try
            {
                if (!_finished)
                {
                    _finished = true;
                    await output.WriteAsync(last, streamCancelled);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        public void Stop() => cancel.Cancel();

        public void Dispose()
        {
            cancel.Dispose();
            _gate.Dispose();
        }
    }
}
