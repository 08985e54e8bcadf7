using System.Collections.Concurrent;
using Orleans.Patterns.Sharding;
using Orleans.Patterns.Users;

namespace Orleans.Patterns.Tests.Sharding.Cluster;

/// <summary>
/// Callers that keep incrementing one counter of random users, carrying a shard-map epoch. A refusal for a stale
/// epoch did nothing, so the caller adopts the epoch it names and retries; so is a message the runtime rejected
/// (a silo that is stopping rejects what it will not run). A call whose outcome is unknown (it timed out, or its
/// silo went away) is retried with the same operation id, which the user applies once (<c>IncrementOnce</c>).
/// Anything else, or a call still failing after a few tries, is a failure. Counts what each user was acknowledged.
/// </summary>
internal sealed class IncrementLoad(IGrainFactory grains, int users, long epoch, int seed) : IAsyncDisposable
{
    private readonly long[] _acknowledged = new long[users];
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly ConcurrentQueue<string> _slow = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _epoch = epoch;
    private long _total;
    private long _staleRetries;
    private long _rejectedRetries;
    private long _unknownRetries;

    public long Acknowledged => Interlocked.Read(ref _total);

    /// <summary>Calls that took over a second, with when they were made.</summary>
    public IReadOnlyCollection<string> Slow => _slow;

    /// <summary>Seconds since the load was created, the clock failures are stamped with.</summary>
    public double Seconds => _clock.Elapsed.TotalSeconds;

    public static string UserId(int index) => $"sharded-user-{index}";

    public void Start(int workers)
    {
        for (var w = 0; w < workers; w++)
        {
            var random = new Random(HashCode.Combine(seed, w));
            _workers.Add(Task.Run(() => RunAsync(random)));
        }
    }

    public async Task WaitForAsync(long acknowledged)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Acknowledged < acknowledged)
        {
            if (DateTime.UtcNow > deadline || _failures.Count > 0)
            {
                throw new TimeoutException($"load reached {Acknowledged} of {acknowledged} acknowledged increments; failures: {string.Join("; ", _failures.Take(3))}");
            }

            await Task.Delay(20);
        }
    }

    public async Task<LoadSummary> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        return new LoadSummary([.. _acknowledged], [.. _failures], Interlocked.Read(ref _staleRetries), Interlocked.Read(ref _rejectedRetries), Interlocked.Read(ref _unknownRetries), Acknowledged);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }

    private async Task RunAsync(Random random)
    {
        while (!_stop.IsCancellationRequested)
        {
            var index = random.Next(users);
            var user = grains.GetUser(UserId(index), UserPlacement.Sharded);
            var operationId = Guid.NewGuid();
            var unknownOutcomes = 0;
            while (true)
            {
                var started = _clock.Elapsed;
                ShardEpochContext.Set(Interlocked.Read(ref _epoch));
                try
                {
                    await user.IncrementOnce("n", 1, operationId);
                    var took = _clock.Elapsed - started;
                    if (took > TimeSpan.FromSeconds(1))
                    {
                        _slow.Enqueue($"{UserId(index)} called at {started.TotalSeconds:0.00} s took {took.TotalSeconds:0.00} s");
                    }

                    Interlocked.Increment(ref _acknowledged[index]);
                    Interlocked.Increment(ref _total);
                    break;
                }
                catch (StaleShardEpochException e)
                {
                    Interlocked.Increment(ref _staleRetries);
                    InterlockedMax(ref _epoch, e.CurrentEpoch);
                }
                catch (OrleansMessageRejectionException)
                {
                    Interlocked.Increment(ref _rejectedRetries);
                    await Task.Delay(10);
                }
                catch (Exception e) when (e is TimeoutException or SiloUnavailableException && ++unknownOutcomes <= 3)
                {
                    Interlocked.Increment(ref _unknownRetries);
                    _slow.Enqueue($"{UserId(index)} called at {started.TotalSeconds:0.00} s: {e.GetType().Name} after {(_clock.Elapsed - started).TotalSeconds:0.00} s, retried with the same operation id");
                }
                catch (Exception e)
                {
                    _failures.Enqueue($"{UserId(index)} (called at {started.TotalSeconds:0.00} s, failed at {_clock.Elapsed.TotalSeconds:0.00} s): {e.GetType().Name}: {e.Message}");
                    return;
                }
            }
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

internal sealed record LoadSummary(long[] PerUser, IReadOnlyList<string> Failures, long StaleRetries, long RejectedRetries, long UnknownRetries, long Total)
{
    public long Acknowledged(int user) => PerUser[user];

    public override string ToString() => $"{Total} increments acknowledged, {StaleRetries} stale-epoch refusals, {RejectedRetries} rejections and {UnknownRetries} unknown outcomes retried, {Failures.Count} failures";
}
