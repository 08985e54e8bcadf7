using System.Globalization;
using Orleans.Patterns.Client.Workload.Resilience;

namespace Orleans.Patterns.Client.Workload.Sharding;

/// <summary>One silo's load over a sharded run.</summary>
/// <param name="Silo">The silo's stable name.</param>
/// <param name="OpsPerSecond">Mean of the operations per second it reported while the run went on.</param>
/// <param name="PeakOpsPerSecond">The largest it reported.</param>
/// <param name="OwnedShards">Shards it owned at the last report.</param>
/// <param name="ActiveUsers">Users active on it at the last report.</param>
/// <param name="Epoch">Its shard-map epoch at the last report.</param>
/// <param name="Samples">Reports it answered.</param>
internal sealed record SiloShardLoad(string Silo, double OpsPerSecond, double PeakOpsPerSecond, int OwnedShards, int ActiveUsers, long Epoch, int Samples);

/// <summary>A busy shard on one silo, at the last report.</summary>
internal sealed record HotShard(int Shard, string Silo, int ActiveUsers, double OpsPerSecond);

/// <summary>Where a sharded workload's load went and what resilience did; the demo reuses it.</summary>
/// <param name="Silos">Load per silo, in name order.</param>
/// <param name="MaxOverAverage">The busiest silo's mean ops/s over the mean of all silos' (1 is perfectly even; 0 without reports).</param>
/// <param name="HotShards">The busiest shards across silos, busiest first.</param>
/// <param name="Resilience">Retries, stale epochs, circuits opened and rejections of the run's calls.</param>
/// <param name="Epoch">The newest epoch the client knew at the end.</param>
internal sealed record ShardingSummary(IReadOnlyList<SiloShardLoad> Silos, double MaxOverAverage, IReadOnlyList<HotShard> HotShards,
    ResilienceTotals Resilience, long Epoch);

/// <summary>
/// Reports gathered about once a second during a run; pure, so the summary can be checked without a cluster.
/// </summary>
internal sealed class ShardLoadSamples
{
    private readonly Dictionary<string, List<ShardHostReply>> _bySilo = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private IReadOnlyList<ShardHostReply> _latest = [];

    public void Add(IReadOnlyList<ShardHostReply> replies)
    {
        lock (_lock)
        {
            foreach (var reply in replies)
            {
                if (!_bySilo.TryGetValue(reply.Silo, out var list))
                {
                    _bySilo[reply.Silo] = list = [];
                }

                list.Add(reply);
            }

            _latest = replies;
        }
    }

    /// <summary>One line for the progress display: each silo's last ops/s and their max/avg.</summary>
    public string? Status()
    {
        IReadOnlyList<ShardHostReply> latest;
        lock (_lock)
        {
            latest = _latest;
        }

        if (latest.Count == 0)
        {
            return null;
        }

        var parts = latest.Select(r => r.Report is { } report
            ? string.Create(CultureInfo.InvariantCulture, $"{r.Silo} {report.OpsPerSecond:0}/s")
            : $"{r.Silo} no answer");
        var ops = latest.Where(r => r.Answered).Select(r => r.Report!.OpsPerSecond).ToList();
        return string.Join(" · ", parts) + string.Create(CultureInfo.InvariantCulture, $" · max/avg {MaxOverAverage(ops):0.00}");
    }

    public ShardingSummary Summarize(ResilienceTotals resilience, long epoch, int hotShards = 5)
    {
        lock (_lock)
        {
            var silos = _bySilo.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p =>
            {
                var answered = p.Value.Where(r => r.Answered).Select(r => r.Report!).ToList();
                var last = answered.LastOrDefault();
                return new SiloShardLoad(p.Key, answered.Count == 0 ? 0 : answered.Average(r => r.OpsPerSecond),
                    answered.Count == 0 ? 0 : answered.Max(r => r.OpsPerSecond), last?.OwnedShards ?? 0, last?.ActiveUsers ?? 0, last?.Epoch ?? 0,
                    answered.Count);
            }).ToList();
            var hot = _latest.Where(r => r.Answered)
                .SelectMany(r => r.Report!.HotShards.Select(s => new HotShard(s.Shard, r.Silo, s.ActiveUsers, s.OpsPerSecond)))
                .OrderByDescending(s => s.OpsPerSecond).ThenBy(s => s.Shard).Take(hotShards).ToList();
            return new ShardingSummary(silos, MaxOverAverage(silos.Where(s => s.Samples > 0).Select(s => s.OpsPerSecond).ToList()), hot, resilience, epoch);
        }
    }

    /// <summary>The largest value over the mean; 0 when there is nothing to compare.</summary>
    public static double MaxOverAverage(IReadOnlyCollection<double> values)
    {
        var mean = values.Count == 0 ? 0 : values.Average();
        return mean > 0 ? values.Max() / mean : 0;
    }
}

/// <summary>Asks every silo's shard host for its report about once a second while a sharded workload runs.</summary>
internal sealed class ShardLoadMonitor(IGrainFactory grains, TimeSpan? interval = null)
{
    public ShardLoadSamples Samples { get; } = new();

    /// <summary>Polls until <paramref name="cancellationToken"/> is cancelled; never throws for a silo that does not answer.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval ?? TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                try
                {
                    Samples.Add(await ShardHosts.AskAllAsync(grains, withMaps: false, cancellationToken));
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    // Membership could not be read this second (a silo joining or leaving); the next tick asks again.
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }
}
