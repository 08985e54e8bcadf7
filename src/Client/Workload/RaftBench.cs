using System.Diagnostics;
using System.Globalization;
using System.Text;
using HdrHistogram;
using Orleans.Patterns.History;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Client.Workload;

/// <summary>What <c>bench raft</c> does.</summary>
/// <param name="Clients">Concurrent sessions, each with its own client id and one write in flight.</param>
/// <param name="Operations">Total puts across all sessions.</param>
/// <param name="ValueSize">Bytes (ASCII characters) per value.</param>
/// <param name="Keys">Size of the key space; put i writes key i mod Keys.</param>
internal sealed record RaftBenchSpec(int Clients, long Operations, int ValueSize, int Keys)
{
    public const int MaxValueSize = 1024 * 1024;

    public void Validate()
    {
        Require(Clients is >= 1 and <= 4096, "--clients", Clients, "must be between 1 and 4096");
        Require(Operations >= 1, "--ops", Operations, "must be at least 1");
        Require(ValueSize is >= 1 and <= MaxValueSize, "--value-size", ValueSize, $"must be between 1 and {MaxValueSize}");
        Require(Keys >= 1, "--keys", Keys, "must be at least 1");
    }

    private static void Require(bool ok, string option, object value, string rule)
    {
        if (!ok)
        {
            throw new UsageException($"{option} {value} {rule}.");
        }
    }
}

internal sealed record RaftBenchResult(RaftBenchSpec Spec, PhaseResult Writes, string? FirstError, string? LeaderBefore, string? LeaderAfter);

/// <summary>
/// Puts through <see cref="RaftKvClient"/> sessions: C sessions, each with one write in flight (the session's rule,
/// so a retry applies once), pulling operation numbers from a shared counter until N are done. Latency is measured
/// per acknowledged (committed and applied) write, retries included, because that is what a caller waits for.
/// </summary>
internal sealed class RaftBench(IGrainFactory grains, IReadOnlyList<string> replicas, RaftBenchSpec spec, HistoryRecorder? history)
{
    private static readonly long HighestTrackable = Stopwatch.Frequency * 3600;

    private readonly RaftKvClient[] _sessions = [.. Enumerable.Range(0, spec.Clients)
        .Select(i => new RaftKvClient(grains, replicas, $"bench-{Guid.NewGuid():N}-{i}"))];

    private long _next = -1;
    private long _completed;
    private long _failed;
    private string? _firstError;

    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>
    /// One put per session, not measured and not recorded: each session finds the leader once, and replicas that
    /// start on first use have elected one, so the measurement starts in steady state.
    /// </summary>
    public Task WarmUpAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_sessions.Select((s, i) => s.PutAsync($"bench-warmup-{i}", "w", cancellationToken)));

    public string? Leader => _sessions.Select(s => s.Leader).FirstOrDefault(l => l is not null);

    public async Task<RaftBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        var leaderBefore = Leader;
        var started = Stopwatch.GetTimestamp();
        var histograms = await Task.WhenAll(_sessions.Select((s, i) => Task.Run(() => SessionAsync(s, i, cancellationToken), cancellationToken)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var latency = NewHistogram();
        foreach (var histogram in histograms)
        {
            latency.Add(histogram);
        }

        var writes = new PhaseResult("puts", latency.TotalCount, Interlocked.Read(ref _failed), elapsed, latency);
        return new RaftBenchResult(spec, writes, _firstError, leaderBefore, Leader);
    }

    /// <summary>A value of exactly <see cref="RaftBenchSpec.ValueSize"/> characters that starts with the operation number, so a history can tell writes apart.</summary>
    internal static string Value(long op, int size)
    {
        var prefix = op.ToString(CultureInfo.InvariantCulture) + ":";
        if (prefix.Length >= size)
        {
            return prefix[..size];
        }

        return new StringBuilder(size).Append(prefix).Append('x', size - prefix.Length).ToString();
    }

    private async Task<LongHistogram> SessionAsync(RaftKvClient session, int client, CancellationToken cancellationToken)
    {
        var latency = NewHistogram();
        while (!cancellationToken.IsCancellationRequested)
        {
            var op = Interlocked.Increment(ref _next);
            if (op >= spec.Operations)
            {
                break;
            }

            var key = "bench-" + (op % spec.Keys).ToString(CultureInfo.InvariantCulture);
            var value = Value(op, spec.ValueSize);
            var handle = history?.Invoke(client, HistoryOpKind.Put, key, value);
            var start = Stopwatch.GetTimestamp();
            try
            {
                await session.PutAsync(key, value, cancellationToken);
                latency.RecordValue(Math.Min(Stopwatch.GetTimestamp() - start, HighestTrackable));
                if (handle is { } done)
                {
                    history!.Complete(done, ok: true);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The session gave up retrying: the put may or may not have been committed.
                Interlocked.Increment(ref _failed);
                Interlocked.CompareExchange(ref _firstError, $"{e.GetType().Name}: {e.Message}", null);
                if (handle is { } unknown)
                {
                    history!.Unknown(unknown);
                }
            }

            Interlocked.Increment(ref _completed);
        }

        return latency;
    }

    private static LongHistogram NewHistogram() => new(HighestTrackable, 3);
}
