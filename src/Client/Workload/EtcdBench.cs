using System.Diagnostics;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using Orleans.Patterns.Etcd.Api;

namespace Orleans.Patterns.Client.Workload;

/// <summary>
/// <see cref="PutLoad"/> against etcd's v3 gRPC <c>KV.Put</c>: the baseline for <see cref="RaftBench"/>, with the same
/// keys, values and callers. A put is acknowledged when etcd answers, which is after the leader has it committed on
/// a quorum's disks and applied, the same point at which a Raft session's put returns.
/// </summary>
/// <remarks>
/// One channel per endpoint. Caller i keeps endpoint i mod E for all its requests, or, spread per request, sends its
/// request j to endpoint (i + j) mod E, as etcd's own client balances requests round-robin; then even one caller's
/// figures do not depend on whether the first endpoint given happens to lead (a put or read there skips the forward to
/// the leader), and callers do not come back to the silo that batched their last write. Kept per caller, this mirrors
/// the Orleans client, which keeps one connection per gateway silo and multiplexes every session over it; here each
/// channel multiplexes its callers as HTTP/2 streams. <see cref="SocketsHttpHandler.EnableMultipleHttp2Connections"/> lets a channel open a second
/// connection if etcd's concurrent-stream limit is ever reached, so no caller queues inside the client: each of the
/// C callers really has its put on the wire. As with Raft sessions sent through any gateway, a put that reaches a
/// follower is forwarded to the leader by etcd itself.
/// </remarks>
internal sealed class EtcdBench : IDisposable
{
    // etcd gives up on a proposal after about 7 s ("request timed out"); past this the client gives up as well.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    // A status request is answered from the member's own state; one that takes longer is a member in trouble.
    private static readonly TimeSpan StatusDeadline = TimeSpan.FromSeconds(5);

    private readonly GrpcChannel[] _channels;
    private readonly KV.KVClient[] _endpointClients;

    // Per caller: the number of requests it has sent, which picks the endpoint of the next (one request in flight each).
    private readonly int[] _sent;
    private readonly bool _spreadPerRequest;
    private readonly PutLoad _load;
    private readonly PutLoad _reads;
    private PutLoad _running;
    private readonly PutBenchSpec _spec;

    public EtcdBench(IReadOnlyList<Uri> endpoints, PutBenchSpec spec, bool spreadPerRequest = false)
    {
        _spec = spec;
        _spreadPerRequest = spreadPerRequest;
        _channels = [.. endpoints.Select(e => GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        }))];
        _endpointClients = [.. _channels.Select(c => new KV.KVClient(c))];
        _sent = new int[spec.Clients];
        _load = new PutLoad(spec);
        _reads = new PutLoad(spec);
        _running = _load;
        Endpoints = string.Join(",", endpoints.Select(e => e.Authority));
        Target = endpoints.Count == 1 ? Endpoints : $"{endpoints.Count} endpoints";
    }

    /// <summary>Requests completed by the phase running now (puts, then reads).</summary>
    public long Completed => _running.Completed;

    public string Endpoints { get; }

    /// <summary>Short enough for the table column; the full list is in the command line.</summary>
    public string Target { get; }

    /// <summary>
    /// Splits a comma-separated list of <c>http://host:port</c> endpoints. Only plain HTTP: the baseline runs on
    /// loopback, and TLS would add cost that the Orleans side does not pay.
    /// </summary>
    public static IReadOnlyList<Uri> ParseEndpoints(string? text)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new UsageException("--endpoints must list at least one etcd endpoint, e.g. --endpoints http://127.0.0.1:2379.");
        }

        var endpoints = new List<Uri>();
        foreach (var part in parts)
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
                || uri.IsDefaultPort || uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                throw new UsageException($"--endpoints {part} is not an endpoint of the form http://host:port.");
            }

            endpoints.Add(uri);
        }

        return endpoints;
    }

    /// <summary>One unmeasured put per caller: opens the connections and warms both sides' code paths.</summary>
    public Task WarmUpAsync(CancellationToken cancellationToken) => WarmUpAsync(TimeSpan.Zero, cancellationToken);

    /// <summary>
    /// Unmeasured load before the measured phases: every caller puts and reads a few keys of its own, in turn, until
    /// <paramref name="duration"/> has passed (at least one put each, which opens the connections). A .NET process
    /// that has just started recompiles its hot paths under load for several seconds (on a fresh cluster, 0.4–0.8 s of
    /// JIT per second in every silo for about 7 s of the first 16-client run, whose put p99 was 4× the next run's);
    /// measured, that is the runtime's warm-up, not the store. Both systems get the same.
    /// </summary>
    public Task WarmUpAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(Enumerable.Range(0, _sent.Length).Select(async i =>
        {
            var round = 0;
            do
            {
                var key = $"bench-warmup-{i}-{round++ % 8}";
                await PutAsync(Next(i), key, "w", cancellationToken);
                if (duration > TimeSpan.Zero)
                {
                    await GetAsync(Next(i), key, cancellationToken);
                }
            }
            while (Stopwatch.GetTimestamp() < until);
        }));
    }

    public async Task<PutBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        var (writes, firstError) = await _load.RunAsync((client, key, value, ct) => PutAsync(Next(client), key, value, ct), cancellationToken);
        return new PutBenchResult(_spec, writes, firstError, Target);
    }

    /// <summary>
    /// The same callers and keys, reading: linearizable <c>KV.Range</c> of one key each (etcd confirms its leadership
    /// with a quorum first; the silos on the Raft leader, from its lease or after a heartbeat round). Run after <see cref="RunAsync"/>, so the keys exist.
    /// </summary>
    public async Task<PutBenchResult> RunReadsAsync(CancellationToken cancellationToken)
    {
        _running = _reads;
        var (reads, firstError) = await _reads.RunAsync((client, key, _, ct) => GetAsync(Next(client), key, ct), cancellationToken);
        return new PutBenchResult(_spec, reads, firstError, Target);
    }

    /// <summary>
    /// Who leads, as the endpoints themselves report it (etcd's <c>Maintenance.Status</c>: the leader's member id and
    /// the Raft term, the highest term any endpoint answers with), and whether the first endpoint is the leader; null
    /// when no endpoint answers. Taken before and after a measured run, it shows whether an election happened during
    /// the run, and whether the first endpoint (the one-client caller's) was the leader's or forwarded to it.
    /// </summary>
    public async Task<Leadership?> LeadershipAsync(CancellationToken cancellationToken)
    {
        Leadership? seen = null;
        ulong firstMember = 0;
        for (var i = 0; i < _channels.Length; i++)
        {
            try
            {
                var status = await new Maintenance.MaintenanceClient(_channels[i]).StatusAsync(
                    new StatusRequest(), deadline: DateTime.UtcNow + StatusDeadline, cancellationToken: cancellationToken);
                firstMember = i == 0 ? status.Header.MemberId : firstMember;
                if (seen is null || status.RaftTerm > seen.Value.Term)
                {
                    seen = new Leadership(status.Leader, status.RaftTerm, false);
                }
            }
            catch (Grpc.Core.RpcException)
            {
                // A member that does not answer now says nothing about who leads; the others may.
            }
        }

        return seen is { } found ? found with { FirstEndpointLeads = found.Leader != 0 && found.Leader == firstMember } : null;
    }

    // Each caller has one request in flight, so its counter is never touched by two requests at once.
    private KV.KVClient Next(int caller) =>
        _endpointClients[(int)((uint)(caller + (_spreadPerRequest ? _sent[caller]++ : 0)) % (uint)_endpointClients.Length)];

    private static async Task GetAsync(KV.KVClient caller, string key, CancellationToken cancellationToken) =>
        await caller.RangeAsync(new RangeRequest { Key = ByteString.CopyFrom(key, Encoding.UTF8) }, deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    private static async Task PutAsync(KV.KVClient caller, string key, string value, CancellationToken cancellationToken)
    {
        // Keys and values are ASCII, so their UTF-8 bytes are the same size as the Raft side's strings.
        var request = new PutRequest
        {
            Key = ByteString.CopyFrom(key, Encoding.UTF8),
            Value = ByteString.CopyFrom(value, Encoding.UTF8),
        };
        await caller.PutAsync(request, deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);
    }
}

/// <summary>Who led a system at one moment, as its endpoints reported it.</summary>
/// <param name="Leader">The leader's member id; 0 when the answering members knew of none.</param>
/// <param name="Term">The Raft term: a higher one later means an election happened in between.</param>
/// <param name="FirstEndpointLeads">Whether the first endpoint given is the leader's (false too when it did not answer).</param>
internal readonly record struct Leadership(ulong Leader, ulong Term, bool FirstEndpointLeads);
