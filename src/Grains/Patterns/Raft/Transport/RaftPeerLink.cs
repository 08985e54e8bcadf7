using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Orleans.Patterns.Raft.Transport;

/// <summary>
/// One replica's outgoing connection to one peer replica. <see cref="TrySend"/> never blocks and never waits: it
/// appends the frame to a buffer that one send loop at a time writes out (so messages queued while a send is in flight
/// leave together, in one write), or answers false while there is no connection, so the caller sends the message
/// another way. A broken connection is dropped with whatever it had buffered (a lost message is Raft's ordinary case)
/// and opened again on a later send, at most every <see cref="RetryDelay"/>.
/// </summary>
internal sealed partial class RaftPeerLink : IAsyncDisposable
{
    /// <summary>Messages buffered beyond this for a peer that does not read are dropped, not kept (one larger message alone still goes).</summary>
    public const int MaxBufferedBytes = 64 * 1024 * 1024;

    // A buffer grown by a large message (a snapshot) is not kept once it has been sent.
    private const int KeptBufferBytes = 1024 * 1024;

    private readonly string _local;
    private readonly Func<CancellationToken, Task<IPEndPoint?>> _resolve;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private ArrayBufferWriter<byte> _pending = new();
    private ArrayBufferWriter<byte> _spare = new();
    private Socket? _socket;
    private bool _sending;
    private bool _connecting;
    private bool _disposed;
    private long _retryAfter;
    private long _sent;
    private long _dropped;

    public RaftPeerLink(string local, string peer, Func<CancellationToken, Task<IPEndPoint?>> resolve, TimeProvider time, ILogger logger)
    {
        _local = local;
        Peer = peer;
        _resolve = resolve;
        _time = time;
        _logger = logger;
    }

    public static TimeSpan RetryDelay { get; } = TimeSpan.FromMilliseconds(500);

    public static TimeSpan ConnectTimeout { get; } = TimeSpan.FromSeconds(2);

    public string Peer { get; }

    public bool Connected
    {
        get
        {
            lock (_gate)
            {
                return _socket is not null;
            }
        }
    }

    /// <summary>Messages put on this connection.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Messages dropped because the peer did not read them fast enough.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Queues <paramref name="message"/> for the peer: true when it is on its way (or dropped for a peer that does not
    /// read), false when there is no connection yet; then a connection is being opened for later sends.
    /// </summary>
    public bool TrySend(byte[] message)
    {
        lock (_gate)
        {
            if (_socket is null)
            {
                StartConnectIfDue();
                return false;
            }

            // A message larger than the limit on its own (a snapshot of a large state) still goes once the buffer is
            // empty; dropping it every time would keep a lagging follower from ever catching up.
            if (_pending.WrittenCount > 0 && _pending.WrittenCount + message.Length > MaxBufferedBytes)
            {
                Interlocked.Increment(ref _dropped);
                return true;
            }

            RaftFrames.Write(_pending, message);
            Interlocked.Increment(ref _sent);
            if (_sending)
            {
                return true; // the running loop takes it with the next write
            }

            _sending = true;
        }

        // Runs inline up to the first send that cannot complete at once (a full socket buffer); then on the thread pool.
        _ = PumpAsync();
        return true;
    }

    private async Task PumpAsync()
    {
        Socket? socket = null;
        try
        {
            while (true)
            {
                ArrayBufferWriter<byte> batch;
                lock (_gate)
                {
                    if (_pending.WrittenCount == 0 || _socket is null)
                    {
                        _sending = false;
                        return;
                    }

                    (batch, _pending, _spare) = (_pending, _spare, _pending);
                    socket = _socket;
                }

                var unsent = batch.WrittenMemory;
                while (!unsent.IsEmpty)
                {
                    // ConfigureAwait(false): called from a grain turn, the rest must not queue on that grain's scheduler.
                    unsent = unsent[await socket.SendAsync(unsent, SocketFlags.None).ConfigureAwait(false)..];
                }

                batch.ResetWrittenCount();
                if (batch.Capacity > KeptBufferBytes)
                {
                    lock (_gate)
                    {
                        _spare = new ArrayBufferWriter<byte>();
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            lock (_gate)
            {
                _sending = false;
            }

            Fail(socket!, e);
        }
    }

    private void StartConnectIfDue()
    {
        if (_connecting || _disposed || _time.GetTimestamp() < _retryAfter)
        {
            return;
        }

        _connecting = true;
        _ = Task.Run(ConnectAsync);
    }

    private async Task ConnectAsync()
    {
        Socket? socket = null;
        try
        {
            using var timeout = new CancellationTokenSource(ConnectTimeout, _time);
            if (await _resolve(timeout.Token).ConfigureAwait(false) is not { } endpoint)
            {
                throw new InvalidOperationException($"replica {Peer} has no peer transport endpoint (raft:peer_transport is orleans there)");
            }

            socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            var hello = new ArrayBufferWriter<byte>();
            RaftFrames.Write(hello, RaftFrames.EncodeHello(_local, Peer));
            await socket.SendAsync(hello.WrittenMemory, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            bool kept;
            lock (_gate)
            {
                _connecting = false;
                kept = !_disposed;
                if (kept)
                {
                    _socket = socket;
                }
            }

            if (!kept)
            {
                socket.Dispose();
                return;
            }

            LogConnected(_logger, _local, Peer, endpoint.ToString());
            _ = WatchAsync(socket);
        }
        catch (Exception e)
        {
            socket?.Dispose();
            lock (_gate)
            {
                _connecting = false;
                _retryAfter = _time.GetTimestamp() + (long)(RetryDelay.TotalSeconds * _time.TimestampFrequency);
            }

            LogConnectFailed(_logger, _local, Peer, e.Message);
        }
    }

    // The peer never writes back; a read that ends means the connection is gone (its silo stopped), seen at once
    // rather than at the next send.
    private async Task WatchAsync(Socket socket)
    {
        var buffer = new byte[1];
        Exception? error = null;
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            error = e;
        }

        Fail(socket, error);
    }

    private void Fail(Socket socket, Exception? error)
    {
        lock (_gate)
        {
            if (_socket != socket)
            {
                return; // already replaced or closed
            }

            _socket = null;
            _pending.ResetWrittenCount();
            _retryAfter = _time.GetTimestamp() + (long)(RetryDelay.TotalSeconds * _time.TimestampFrequency);
        }

        socket.Dispose();
        LogLost(_logger, _local, Peer, error?.Message ?? "closed by the peer");
    }

    public ValueTask DisposeAsync()
    {
        Socket? socket;
        lock (_gate)
        {
            _disposed = true;
            socket = _socket;
            _socket = null;
        }

        socket?.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft peer transport: {Local} -> {Peer} connected to {Endpoint}")]
    private static partial void LogConnected(ILogger logger, string local, string peer, string endpoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft peer transport: {Local} -> {Peer} could not connect ({Reason}); messages go through Orleans meanwhile")]
    private static partial void LogConnectFailed(ILogger logger, string local, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft peer transport: {Local} -> {Peer} lost its connection ({Reason})")]
    private static partial void LogLost(ILogger logger, string local, string peer, string reason);
}
