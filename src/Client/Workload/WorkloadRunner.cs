using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Orleans.Patterns.Client.Workload.Resilience;
using Orleans.Patterns.Client.Workload.Sharding;
using Orleans.Patterns.Users;

namespace Orleans.Patterns.Client.Workload;

/// <summary>What a workload run does.</summary>
/// <param name="Users">Distinct user ids, <c>{UserPrefix}{0..Users-1}</c>.</param>
/// <param name="Operations">Total operations; operation i goes to user i mod Users, so the first pass activates every user once.</param>
/// <param name="Concurrency">Concurrent callers.</param>
/// <param name="Placement">Which user grain type, and so which placement, the calls go to.</param>
/// <param name="WriteRatio">Share of operations that write (persisted before they are acknowledged).</param>
/// <param name="UserPrefix">Prefix of user ids; a new prefix means users never activated before.</param>
/// <param name="Seed">Seed of the read/write mix and of the Zipf draws.</param>
/// <param name="Distribution">Which users the operations after the first pass go to.</param>
/// <param name="Skew">The Zipf exponent, with <see cref="UserDistribution.Zipf"/>; above 0.</param>
internal sealed record WorkloadSpec(int Users, long Operations, int Concurrency, UserPlacement Placement, double WriteRatio, string UserPrefix, int Seed,
    UserDistribution Distribution = UserDistribution.Uniform, double Skew = 1.0)
{
    public string UserId(long index) => UserPrefix + (index % Users).ToString(CultureInfo.InvariantCulture);

    public void Validate()
    {
        Require(Users >= 1, "--users", Users, "must be at least 1");
        Require(Operations >= 1, "--ops", Operations, "must be at least 1");
        Require(Concurrency is >= 1 and <= 4096, "--concurrency", Concurrency, "must be between 1 and 4096");
        Require(WriteRatio is >= 0 and <= 1, "--write-ratio", WriteRatio, "must be between 0 and 1");
        Require(Skew > 0 && !double.IsInfinity(Skew), "--skew", Skew, "must be a number above 0");
    }

    private static void Require(bool ok, string option, object value, string rule)
    {
        if (!ok)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{option} {value} {rule}."));
        }
    }
}

/// <summary>Latency and throughput of one phase of a run.</summary>
internal sealed record PhaseResult(string Phase, long Succeeded, long Failed, TimeSpan Elapsed, HistogramBase Latency)
{
    public double OpsPerSecond => Elapsed.TotalSeconds > 0 ? Succeeded / Elapsed.TotalSeconds : 0;

    public double PercentileMs(double percentile) =>
        Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Which users the warm pass calls.</summary>
internal enum UserDistribution
{
    /// <summary>Operation i goes to user i mod U: every user equally often.</summary>
    Uniform,

    /// <summary>Users drawn from Zipf(skew): user 0 is the hottest, user k is called about 1/(k+1)^skew as often.</summary>
    Zipf,
}

/// <summary>The figures of one run; <paramref name="Sharding"/> only for the sharded placement.</summary>
internal sealed record WorkloadResult(WorkloadSpec Spec, PhaseResult Total, PhaseResult FirstCall, PhaseResult? Warm, string? FirstError,
    ShardingSummary? Sharding = null);

/// <summary>
/// Drives user-grain calls with a fixed number of concurrent callers, in two timed passes: the first call of
/// every user (placement and activation run on each of them), then the remaining operations on warm
/// activations. Operation i goes to user i mod U, or in the warm pass with a Zipf distribution to a user drawn
/// for i from the seed. With <paramref name="resilient"/>, calls go through it (retries, circuits, shard epochs).
/// </summary>
internal sealed class WorkloadRunner(IGrainFactory grains, WorkloadSpec spec, ResilientUsers? resilient = null)
{
    // One hour in Stopwatch ticks: any call slower than that is a failure anyway.
    private static readonly long HighestTrackable = Stopwatch.Frequency * 3600;

    private long _next;
    private long _end;
    private long _completed;
    private long _failed;
    private string? _firstError;
    private ZipfSampler? _zipf;
    private bool _stopped;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// Ends the run early and cleanly: calls already made finish and are counted, no new one starts, and
    /// <see cref="RunAsync"/> returns the figures of what was done (a run of open-ended length, stopped by events).
    /// </summary>
    public void Stop()
    {
        Volatile.Write(ref _stopped, true);
        Volatile.Write(ref _end, long.MinValue);
    }

    public async Task<WorkloadResult> RunAsync(CancellationToken cancellationToken)
    {
        spec.Validate();
        UseDistribution();
        var firstPassEnd = Math.Min(spec.Users, spec.Operations);
        var first = await RunPassAsync("first call", 0, firstPassEnd, cancellationToken);
        var warm = spec.Operations > firstPassEnd && !Volatile.Read(ref _stopped)
            ? await RunPassAsync("warm", firstPassEnd, spec.Operations, cancellationToken)
            : null;
        var latency = NewHistogram();
        latency.Add(first.Latency);
        if (warm is not null)
        {
            latency.Add(warm.Latency);
        }

        var total = new PhaseResult(
            "all", first.Succeeded + (warm?.Succeeded ?? 0), first.Failed + (warm?.Failed ?? 0),
            first.Elapsed + (warm?.Elapsed ?? TimeSpan.Zero), latency);
        return new WorkloadResult(spec, total, first, warm, _firstError);
    }

    private async Task<PhaseResult> RunPassAsync(string phase, long from, long to, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _next, from - 1);
        Volatile.Write(ref _end, to);
        if (Volatile.Read(ref _stopped))
        {
            // Stop() sets the flag before the end, so a Stop() this check misses has yet to write the end.
            Volatile.Write(ref _end, long.MinValue);
        }

        var failedBefore = Failed;
        var started = Stopwatch.GetTimestamp();
        var histograms = await Task.WhenAll(Enumerable.Range(0, spec.Concurrency)
            .Select(w => Task.Run(() => WorkerAsync(HashCode.Combine(spec.Seed, phase, w), cancellationToken), cancellationToken)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var latency = NewHistogram();
        foreach (var histogram in histograms)
        {
            latency.Add(histogram);
        }

        return new PhaseResult(phase, latency.TotalCount, Failed - failedBefore, elapsed, latency);
    }

    private async Task<LongHistogram> WorkerAsync(int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var latency = NewHistogram();
        while (!cancellationToken.IsCancellationRequested)
        {
            var op = Interlocked.Increment(ref _next);
            if (op >= Volatile.Read(ref _end))
            {
                break;
            }

            var userId = UserOf(op);
            var write = random.NextDouble() < spec.WriteRatio;
            var start = Stopwatch.GetTimestamp();
            try
            {
                if (resilient is not null)
                {
                    await (write
                        ? (op & 1) == 0
                            ? resilient.IncrementAsync(userId, "ops", 1, cancellationToken)
                            : resilient.PutAsync(userId, "last-op", op.ToString(CultureInfo.InvariantCulture), cancellationToken)
                        : resilient.GetAsync(userId, "last-op", cancellationToken));
                }
                else
                {
                    var user = grains.GetUser(userId, spec.Placement);
                    await (write
                        ? (op & 1) == 0 ? user.Increment("ops", 1) : user.Put("last-op", op.ToString(CultureInfo.InvariantCulture))
                        : user.Get("last-op"));
                }

                latency.RecordValue(Math.Min(Stopwatch.GetTimestamp() - start, HighestTrackable));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failed);
                Interlocked.CompareExchange(ref _firstError, $"{e.GetType().Name}: {e.Message}", null);
            }

            Interlocked.Increment(ref _completed);
        }

        return latency;
    }

    /// <summary>Builds the spec's distribution (once the spec is valid); <see cref="RunAsync"/> calls it.</summary>
    internal void UseDistribution() =>
        _zipf = spec.Distribution == UserDistribution.Zipf ? new ZipfSampler(spec.Users, spec.Skew) : null;

    /// <summary>The user of operation <paramref name="op"/>: the first pass calls each user once, in order.</summary>
    internal string UserOf(long op) => _zipf is { } zipf && op >= spec.Users
        ? spec.UserId(zipf.Sample(ZipfSampler.UniformAt(spec.Seed, op)))
        : spec.UserId(op);

    private static LongHistogram NewHistogram() => new(HighestTrackable, 3);
}
