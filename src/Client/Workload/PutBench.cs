using System.Diagnostics;
using System.Globalization;
using System.Text;
using HdrHistogram;
using Orleans.Patterns.History;

namespace Orleans.Patterns.Client.Workload;

/// <summary>The load shape shared by <c>bench raft</c> and <c>bench etcd</c>, so the two figures compare like for like.</summary>
/// <param name="Clients">Concurrent callers, each with one put in flight.</param>
/// <param name="Operations">Total puts across all callers.</param>
/// <param name="ValueSize">Bytes (ASCII characters) per value.</param>
/// <param name="Keys">Size of the key space; put i writes key i mod Keys.</param>
internal sealed record PutBenchSpec(int Clients, long Operations, int ValueSize, int Keys)
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

/// <summary>The figures of one bench run; <paramref name="Target"/> names what was written to (a leader, endpoints).</summary>
internal sealed record PutBenchResult(PutBenchSpec Spec, PhaseResult Writes, string? FirstError, string Target);

/// <summary>
/// C callers, each with one put in flight, pulling operation numbers from a shared counter until N are done; put i
/// writes <see cref="Key"/>(i) = <see cref="Value"/>(i). Latency is measured per acknowledged put, whatever the
/// caller does inside (retries included), because that is what an application waits for. The store is behind
/// the <c>put</c> delegate, so Raft and etcd are driven by the same loop and recorded by the same histograms.
/// </summary>
internal sealed class PutLoad(PutBenchSpec spec, HistoryRecorder? history = null)
{
    // One hour in Stopwatch ticks: any put slower than that is a failure anyway.
    private static readonly long HighestTrackable = Stopwatch.Frequency * 3600;

    private long _next = -1;
    private long _completed;
    private long _failed;
    private string? _firstError;

    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Runs the puts; <paramref name="put"/> gets the caller's index, the key and the value.</summary>
    public async Task<(PhaseResult Writes, string? FirstError)> RunAsync(Func<int, string, string, CancellationToken, Task> put, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var histograms = await Task.WhenAll(Enumerable.Range(0, spec.Clients)
            .Select(client => Task.Run(() => CallerAsync(put, client, cancellationToken), cancellationToken)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var latency = NewHistogram();
        foreach (var histogram in histograms)
        {
            latency.Add(histogram);
        }

        return (new PhaseResult("puts", latency.TotalCount, Interlocked.Read(ref _failed), elapsed, latency), Volatile.Read(ref _firstError));
    }

    internal static string Key(long op, int keys) => "bench-" + (op % keys).ToString(CultureInfo.InvariantCulture);

    /// <summary>A value of exactly <paramref name="size"/> characters that starts with the operation number, so a history can tell writes apart.</summary>
    internal static string Value(long op, int size)
    {
        var prefix = op.ToString(CultureInfo.InvariantCulture) + ":";
        if (prefix.Length >= size)
        {
            return prefix[..size];
        }

        return new StringBuilder(size).Append(prefix).Append('x', size - prefix.Length).ToString();
    }

    private async Task<LongHistogram> CallerAsync(Func<int, string, string, CancellationToken, Task> put, int client, CancellationToken cancellationToken)
    {
        var latency = NewHistogram();
        while (!cancellationToken.IsCancellationRequested)
        {
            var op = Interlocked.Increment(ref _next);
            if (op >= spec.Operations)
            {
                break;
            }

            var key = Key(op, spec.Keys);
            var value = Value(op, spec.ValueSize);
            var handle = history?.Invoke(client, HistoryOpKind.Put, key, value);
            var start = Stopwatch.GetTimestamp();
            try
            {
                await put(client, key, value, cancellationToken);
                latency.RecordValue(Math.Min(Stopwatch.GetTimestamp() - start, HighestTrackable));
                if (handle is { } done)
                {
                    history!.Complete(done, ok: true);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The caller gave up: the put may or may not have been committed.
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
