using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Patterns.Raft.Transport;
using Orleans.Patterns.Tests.Infrastructure;

namespace Orleans.Patterns.Tests.Raft.Transport;

/// <summary>
/// One replica's connection to a peer, against a plain loopback listener standing in for the peer's transport: no
/// silo, no grain. What it sends arrives as a hello and then the messages in order; a send before the connection is
/// up is refused (the replica then uses Orleans) and opens it; a connection the peer closes is seen as gone and opened
/// again by a later send.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RaftPeerLinkTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private RaftPeerLink _link = null!;

    public Task InitializeAsync()
    {
        _listener.Start();
        var endpoint = (IPEndPoint)_listener.LocalEndpoint;
        _link = new RaftPeerLink("silo-1", "silo-2", _ => Task.FromResult<IPEndPoint?>(endpoint), TimeProvider.System, NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _link.DisposeAsync();
        _listener.Stop();
    }

    [Fact]
    public async Task A_send_before_the_connection_is_up_is_refused_and_opens_it_then_messages_arrive_after_a_hello_in_order()
    {
        Assert.False(_link.TrySend([0]));
        using var peer = await _listener.AcceptSocketAsync();
        await Eventually.WaitAsync(() => Task.FromResult(_link.Connected), Deadline, () => "the link connected");

        var messages = Enumerable.Range(1, 100).Select(i => Enumerable.Repeat((byte)i, i * 13).ToArray()).ToList();
        Assert.All(messages, m => Assert.True(_link.TrySend(m)));

        var frames = await ReadFramesAsync(peer, messages.Count + 1);
        Assert.Equal(("silo-1", "silo-2"), RaftFrames.DecodeHello(frames[0]));
        Assert.Equal(messages, frames.Skip(1));
        Assert.Equal(messages.Count, _link.Sent);
    }

    [Fact]
    public async Task A_connection_the_peer_closes_is_seen_gone_and_a_later_send_opens_another()
    {
        Assert.False(_link.TrySend([0]));
        using (var first = await _listener.AcceptSocketAsync())
        {
            await Eventually.WaitAsync(() => Task.FromResult(_link.Connected), Deadline, () => "the first connection");
        }

        await Eventually.WaitAsync(() => Task.FromResult(!_link.Connected), Deadline, () => "the closed connection seen gone");

        // Refused while down; after the retry delay a send opens a new connection, which then carries the messages.
        var accepted = _listener.AcceptSocketAsync();
        await Eventually.WaitAsync(
            () => Task.FromResult(_link.TrySend([7]) && _link.Connected),
            Deadline,
            () => "a send on a new connection");
        using var second = await accepted;
        Assert.True(_link.TrySend([8, 8]));

        var frames = await ReadFramesAsync(second, 3);
        Assert.Equal(("silo-1", "silo-2"), RaftFrames.DecodeHello(frames[0]));
        Assert.Equal(new byte[] { 7 }, frames[1]);
        Assert.Equal(new byte[] { 8, 8 }, frames[2]);
    }

    private static async Task<List<byte[]>> ReadFramesAsync(Socket socket, int count)
    {
        var reader = new RaftFrameReader(initialCapacity: 64);
        var frames = new List<byte[]>();
        using var timeout = new CancellationTokenSource(Deadline);
        while (frames.Count < count)
        {
            var read = await socket.ReceiveAsync(reader.GetReadBuffer(), SocketFlags.None, timeout.Token);
            Assert.True(read > 0, $"the link closed after {frames.Count} of {count} frames");
            reader.Advance(read);
            while (reader.TryRead(out var payload))
            {
                frames.Add(payload);
            }
        }

        return frames;
    }
}
