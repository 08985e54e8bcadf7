using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Chaos;

namespace Orleans.Patterns.Raft.Transport;

/// <summary>
/// The Raft replicas' own transport between silos (<see cref="RaftReplicaOptions.PeerTransport"/>): one TCP connection
/// from each replica to each peer, carrying <see cref="RaftMessageCodec"/> frames, received straight onto the local
/// replica's scheduler. It replaces the <c>IRaftReplicaGrain.Deliver</c> call for replica-to-replica messages: no
/// Orleans message header, request object or response bookkeeping per message, and messages queued while a write is in
/// flight leave in one write. Whatever it cannot carry (no connection yet, a peer without it) goes through Orleans, so
/// it is an optimisation, never a dependency. One per silo.
/// </summary>
/// <remarks>
/// Fault injection applies here as it does to the grain call it replaces: the receiving silo's chaos rules decide
/// each message from the sending silo (drop, delay, duplicate, partition), so the nemesis faults the same links. The
/// listener binds to the silo's own address; like Orleans' silo-to-silo port, it is for a trusted network.
/// </remarks>
internal sealed partial class RaftPeerTransport : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly string DeliverInterface = typeof(IRaftReplicaGrain).FullName!;

    private readonly RaftReplicaOptions _options;
    private readonly ILocalSiloDetails _silo;
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<RaftPeerTransport> _logger;
    private readonly ChaosRuleStore? _chaos;
    private readonly bool _chaosCovers;
    private readonly ConcurrentDictionary<string, RaftPeerLink> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Socket, byte> _inbound = new();
    private readonly ConcurrentDictionary<string, InboundCounts> _received = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private volatile AttachedReplica? _replica;
    private Socket? _listener;

    public RaftPeerTransport(
        IOptions<RaftReplicaOptions> options,
        ILocalSiloDetails silo,
        IGrainFactory grains,
        TimeProvider time,
        IServiceProvider services,
        ILogger<RaftPeerTransport> logger)
    {
        _options = options.Value;
        _silo = silo;
        _grains = grains;
        _time = time;
        _logger = logger;
        _chaos = services.GetService(typeof(ChaosRuleStore)) as ChaosRuleStore;
        _chaosCovers = _chaos is { Enabled: true } && services.GetService(typeof(ChaosScope)) is ChaosScope scope && scope.Covers(typeof(IRaftReplicaGrain));
    }

    /// <summary>Where this silo's replica takes its peers' connections (<c>address:port</c>), or null when the transport is off.</summary>
    public string? Endpoint { get; private set; }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RaftPeerTransport), ServiceLifecycleStage.RuntimeGrainServices, StartAsync, StopAsync);

    /// <summary>Frames that arrive from now on go to this replica's activation, on its scheduler.</summary>
    public void Attach(string name, IGrainContext context, Func<byte[], Task> deliver) =>
        _replica = new AttachedReplica(name, context, deliver, this);

    /// <summary>Stops handing frames to <paramref name="context"/>; later ones go through Orleans, which activates the replica again.</summary>
    public void Detach(IGrainContext context)
    {
        if (_replica is { } attached && attached.Context.Equals(context))
        {
            _replica = null;
        }
    }

    /// <summary>Sends a replica's message to the peer replica <paramref name="peer"/>; false when the caller must send it through Orleans.</summary>
    public bool TrySend(string peer, byte[] message)
    {
        if (_listener is null || _stopping.IsCancellationRequested)
        {
            return false;
        }

        var link = _links.GetOrAdd(peer, static (name, self) => self.CreateLink(name), this);
        return link.TrySend(message);
    }

    /// <summary>Every peer this transport has sent to or heard from: its connection and what went each way.</summary>
    public IReadOnlyList<RaftPeerLinkStatus> Peers()
    {
        var names = _links.Keys.Union(_received.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return [.. names.Select(peer =>
        {
            _links.TryGetValue(peer, out var link);
            var (received, droppedByChaos) = _received.TryGetValue(peer, out var inbound) ? inbound.Read() : (0, 0);
            return new RaftPeerLinkStatus(peer, link?.Connected ?? false, link?.Sent ?? 0, link?.Dropped ?? 0, received, droppedByChaos);
        })];
    }

    // The replica is the silo's: its name is the silo's, and so is the peer's.
    private RaftPeerLink CreateLink(string peer) =>
        new(_silo.Name, peer, token => ResolveAsync(peer, token), _time, _logger);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.PeerTransport != RaftPeerTransportKind.Tcp)
        {
            return Task.CompletedTask;
        }

        var address = _silo.SiloAddress.Endpoint.Address;
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, _options.PeerTransportPort));
            listener.Listen(64);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new InvalidOperationException(
                $"raft:peer_transport_port {_options.PeerTransportPort}: cannot listen on {address} ({e.SocketErrorCode}: {e.Message}); free the port, pick another, or set 0 for any free port.", e);
        }

        _listener = listener;
        var endpoint = listener.LocalEndPoint!.ToString()!;
        Endpoint = endpoint;
        LogListening(_logger, _silo.Name, endpoint);
        _ = AcceptAsync(listener);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _replica = null;
        _listener?.Dispose();
        foreach (var socket in _inbound.Keys)
        {
            socket.Dispose();
        }

        foreach (var link in _links.Values)
        {
            await link.DisposeAsync();
        }
    }

    private async Task AcceptAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            socket.NoDelay = true;
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        _inbound[socket] = 0;
        string? from = null;
        InboundCounts? counts = null;
        try
        {
            var reader = new RaftFrameReader();
            while (!_stopping.IsCancellationRequested)
            {
                var read = await socket.ReceiveAsync(reader.GetReadBuffer(), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                reader.Advance(read);
                while (reader.TryRead(out var payload))
                {
                    if (from is null)
                    {
                        var hello = RaftFrames.DecodeHello(payload);
                        if (!string.Equals(hello.To, _silo.Name, StringComparison.Ordinal))
                        {
                            throw new InvalidDataException($"Raft peer transport: {hello.From} connected to {_silo.Name} for replica {hello.To}.");
                        }

                        from = hello.From;
                        counts = _received.GetOrAdd(from, static _ => new InboundCounts());
                        continue;
                    }

                    Receive(from, counts!, payload);
                }
            }
        }
        catch (InvalidDataException e)
        {
            LogBadStream(_logger, _silo.Name, from ?? socket.RemoteEndPoint?.ToString() ?? "?", e.Message);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer went away or this silo is stopping: nothing to say.
        }
        finally
        {
            _inbound.TryRemove(socket, out _);
            socket.Dispose();
        }
    }

    private void Receive(string from, InboundCounts counts, byte[] message)
    {
        Interlocked.Increment(ref counts.Received);
        var decision = _chaosCovers ? _chaos!.Decide(new ChaosCall(from, _chaos.SiloName, DeliverInterface)) : ChaosDecision.None;
        if (decision.DroppedBy is not null)
        {
            Interlocked.Increment(ref counts.DroppedByChaos);
            return;
        }

        if (decision.Delay > TimeSpan.Zero)
        {
            _ = DeliverLaterAsync(message, decision.Delay, decision.DuplicatedBy is not null);
            return;
        }

        Deliver(message);
        if (decision.DuplicatedBy is not null)
        {
            Deliver(message);
        }
    }

    private async Task DeliverLaterAsync(byte[] message, TimeSpan delay, bool twice)
    {
        try
        {
            await Task.Delay(delay, _time, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Deliver(message);
        if (twice)
        {
            Deliver(message);
        }
    }

    private void Deliver(byte[] message)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        if (_replica is { } replica)
        {
            replica.Context.Scheduler.QueueAction(static state => ((Delivery)state).Run(), new Delivery(replica, message));
            return;
        }

        // Not active here (yet, or any more): Orleans' call activates it, as a message through Orleans would.
        _ = _grains.GetGrain<IRaftReplicaGrain>(_silo.Name).Deliver(message);
    }

    private Task<IPEndPoint?> ResolveAsync(string peer, CancellationToken cancellationToken) =>
        ResolveCoreAsync(_grains.GetGrain<IRaftReplicaGrain>(peer), cancellationToken);

    private static async Task<IPEndPoint?> ResolveCoreAsync(IRaftReplicaGrain peer, CancellationToken cancellationToken)
    {
        var endpoint = await peer.GetPeerEndpoint().WaitAsync(cancellationToken).ConfigureAwait(false);
        return endpoint is null ? null : IPEndPoint.Parse(endpoint);
    }

    private sealed class InboundCounts
    {
        public long Received;
        public long DroppedByChaos;

        public (long Received, long DroppedByChaos) Read() => (Interlocked.Read(ref Received), Interlocked.Read(ref DroppedByChaos));
    }

    private sealed record AttachedReplica(string Name, IGrainContext Context, Func<byte[], Task> Deliver, RaftPeerTransport Transport);

    private sealed class Delivery(AttachedReplica replica, byte[] message)
    {
        // Runs as a turn of the replica's activation, like the Deliver call it replaces; a failure is logged, as
        // Orleans logs a failed one-way call.
        public void Run()
        {
            Task task;
            try
            {
                task = replica.Deliver(message);
            }
            catch (Exception e)
            {
                task = Task.FromException(e);
            }

            if (!task.IsCompletedSuccessfully)
            {
                _ = task.ContinueWith(
                    static (t, state) => LogDeliveryFailed(((AttachedReplica)state!).Transport._logger, t.Exception!.GetBaseException(), ((AttachedReplica)state!).Name),
                    replica,
                    CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft peer transport of {Silo} listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string silo, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft peer transport of {Silo}: closed the connection from {Peer}: {Reason}")]
    private static partial void LogBadStream(ILogger logger, string silo, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft replica {Node}: a message from the peer transport failed")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, string node);
}
