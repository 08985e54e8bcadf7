using Orleans.Patterns.History;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Client.Workload;

/// <summary>
/// <see cref="PutLoad"/> through <see cref="RaftKvClient"/> sessions: one session (own client id) per caller, so
/// each has one write in flight (the session's rule, so a retry applies once). A put is acknowledged once the
/// leader has it committed and applied.
/// </summary>
internal sealed class RaftBench(IGrainFactory grains, IReadOnlyList<string> replicas, PutBenchSpec spec, HistoryRecorder? history)
{
    // Fresh client ids for every bench: the store remembers each session's last sequence number.
    private readonly string _runId = Guid.NewGuid().ToString("N");
    private readonly RaftKvChannel _channel = new(grains, replicas);
    private RaftKvClient[]? _sessions;

    /// <summary>Most writes per batch to the leader (1: every put its own call, the baseline batching is measured against).</summary>
    public int MaxBatch { get => _channel.Writes.MaxBatch; init => _channel.Writes.MaxBatch = value; }

    /// <summary>Most calls to the leader in flight at once.</summary>
    public int MaxInFlight { get => _channel.Writes.MaxInFlight; init => _channel.Writes.MaxInFlight = value; }

    /// <summary>Longest a freed call slot waits for the writers of the batch that just settled.</summary>
    public TimeSpan Linger { get => _channel.Writes.Linger; init => _channel.Writes.Linger = value; }

    /// <summary>Mean writes per call to the leader so far.</summary>
    public double MeanBatch => _channel.Writes.Sent is var (batches, writes) && batches > 0 ? (double)writes / batches : 0;

    private RaftKvClient[] Sessions => _sessions ??= [.. Enumerable.Range(0, spec.Clients)
        .Select(i => new RaftKvClient(_channel, $"bench-{_runId}-{i}"))];

    private readonly PutLoad _load = new(spec, history);

    public long Completed => _load.Completed;

    /// <summary>
    /// One put per session, not measured and not recorded: each session finds the leader once, and replicas that
    /// start on first use have elected one, so the measurement starts in steady state.
    /// </summary>
    public Task WarmUpAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Sessions.Select((s, i) => s.PutAsync($"bench-warmup-{i}", "w", cancellationToken)));

    public string? Leader => Sessions.Select(s => s.Leader).FirstOrDefault(l => l is not null);

    public async Task<PutBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        var leaderBefore = Leader;
        var (writes, firstError) = await _load.RunAsync((client, key, value, ct) => Sessions[client].PutAsync(key, value, ct), cancellationToken);
        var leaderAfter = Leader;
        return new PutBenchResult(spec, writes, firstError,
            leaderBefore == leaderAfter ? leaderAfter ?? "-" : $"{leaderBefore} -> {leaderAfter}");
    }
}
