using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Patterns.Client.Workload.Resilience;
using Orleans.Patterns.Sharding;
using Orleans.Runtime.Messaging;
using Orleans.Storage;
using Polly.CircuitBreaker;
using Polly.Telemetry;
using Polly.Timeout;

namespace Orleans.Patterns.Tests.Client;

/// <summary>Which failed user calls are retried, and the pipeline doing it: stale epochs adopted, circuits per silo.</summary>
[Trait("Category", "Unit")]
public sealed class UserCallPipelineTests
{
    // No waiting between retries and a clock that only moves when told: the tests take milliseconds.
    private static readonly UserCallPipelineOptions Fast = new()
    {
        RetryDelay = TimeSpan.Zero,
        MaxRetries = 4,
        MinimumThroughput = 4,
        FailureRatio = 0.5,
        SamplingDuration = TimeSpan.FromSeconds(30),
        BreakDuration = TimeSpan.FromSeconds(5),
    };

    public static TheoryData<Exception, string> Failures => new()
    {
        { new StaleShardEpochException(3, 4, "user-sharded/alice"), nameof(UserCallFailure.StaleEpoch) },
        { new GatewayTooBusyException(), nameof(UserCallFailure.NotExecuted) },
        { new ConnectionFailedException("no gateway"), nameof(UserCallFailure.NotExecuted) },
        { new BrokenCircuitException("open"), nameof(UserCallFailure.NotExecuted) },
        { new InconsistentStateException("ETag mismatch", "108", "107"), nameof(UserCallFailure.WriteConflict) },
        { new SiloUnavailableException("target silo became unavailable"), nameof(UserCallFailure.OutcomeUnknown) },
        { new TimeoutException("response did not arrive on time"), nameof(UserCallFailure.OutcomeUnknown) },
        { new TimeoutRejectedException("attempt timed out"), nameof(UserCallFailure.OutcomeUnknown) },
        { new IOException("connection reset"), nameof(UserCallFailure.OutcomeUnknown) },
        { new SocketException((int)SocketError.ConnectionReset), nameof(UserCallFailure.OutcomeUnknown) },
        { new ArgumentException("empty key"), nameof(UserCallFailure.BadRequest) },
        { new InvalidOperationException("bad state"), nameof(UserCallFailure.BadRequest) },
        { new OperationCanceledException(), nameof(UserCallFailure.Canceled) },
        { new FormatException("application error"), nameof(UserCallFailure.Other) },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Failures_are_classified_by_what_they_say_happened(Exception exception, string expected) =>
        Assert.Equal(Enum.Parse<UserCallFailure>(expected), UserCallClassifier.Classify(exception));

    [Theory]
    [InlineData(nameof(UserOperation.Get), true)]
    [InlineData(nameof(UserOperation.GetSnapshot), true)]
    [InlineData(nameof(UserOperation.Put), true)]
    [InlineData(nameof(UserOperation.SetDisplayName), true)]
    [InlineData(nameof(UserOperation.IncrementOnce), true)]
    [InlineData(nameof(UserOperation.Increment), false)]
    public void Unknown_outcomes_are_retried_only_for_idempotent_operations(string name, bool retried)
    {
        var operation = Enum.Parse<UserOperation>(name);
        Assert.Equal(retried, UserCallClassifier.ShouldRetry(operation, new TimeoutException()));
        Assert.Equal(retried, UserCallClassifier.ShouldRetry(operation, new SiloUnavailableException()));

        // A call the runtime cancelled (its silo stopping) is an unknown outcome; the caller's own cancellation ends it.
        Assert.Equal(retried, UserCallClassifier.ShouldRetry(operation, new TaskCanceledException(), callerCanceled: false));
        Assert.False(UserCallClassifier.ShouldRetry(operation, new TaskCanceledException(), callerCanceled: true));

        // Whatever the operation: nothing ran, so retry; bad input, never.
        Assert.True(UserCallClassifier.ShouldRetry(operation, new StaleShardEpochException(1, 2, "g")));
        Assert.True(UserCallClassifier.ShouldRetry(operation, new GatewayTooBusyException()));
        Assert.False(UserCallClassifier.ShouldRetry(operation, new ArgumentException("bad")));
        Assert.False(UserCallClassifier.ShouldRetry(operation, new InvalidOperationException("bad")));
    }

    [Theory]
    [InlineData(nameof(UserOperation.Get))]
    [InlineData(nameof(UserOperation.Increment))]
    public async Task A_stale_epoch_is_adopted_and_the_call_retried_with_it(string name)
    {
        var operation = Enum.Parse<UserOperation>(name);
        var counters = new ResilienceCounters();
        var fetched = 0;
        var maps = new ShardMapCache(_ => Task.FromResult<ShardMapView?>(MapView(Interlocked.Increment(ref fetched) + 1)), counters);
        maps.Publish(Map(1));
        await using var pipeline = new UserCallPipeline(maps, counters, Fast, timeProvider: new FakeTimeProvider());
        var seen = new List<long?>();

        var result = await pipeline.ExecuteAsync("alice", operation, () =>
        {
            var epoch = ShardEpochContext.Current;
            seen.Add(epoch);
            return epoch < 3 ? throw new StaleShardEpochException(epoch.Value, epoch.Value + 1, "user-sharded/alice") : Task.FromResult(42L);
        }, CancellationToken.None);

        Assert.Equal(42L, result);
        Assert.Equal([1, 2, 3], seen);
        Assert.Equal(3, maps.Epoch);
        Assert.Equal(3, maps.Map!.Epoch);
        Assert.Equal(new ResilienceTotals(Retries: 2, StaleEpochs: 2, MapRefreshes: 2, CircuitsOpened: 0, Rejected: 0, UnknownOutcomes: 0), counters.Snapshot());
        Assert.Null(ShardEpochContext.Current);
    }

    [Fact]
    public async Task A_timed_out_get_is_retried()
    {
        await using var pipeline = NewPipeline(out var counters);
        var attempts = 0;

        var value = await pipeline.ExecuteAsync<string?>("alice", UserOperation.Get,
            () => ++attempts == 1 ? throw new TimeoutException("no response") : Task.FromResult<string?>("v"), CancellationToken.None);

        Assert.Equal("v", value);
        Assert.Equal(2, attempts);
        Assert.Equal(1, counters.Snapshot().Retries);
    }

    [Fact]
    public async Task A_timed_out_increment_is_not_retried_and_reports_the_unknown_outcome()
    {
        await using var pipeline = NewPipeline(out var counters);
        var attempts = 0;

        var error = await Assert.ThrowsAsync<UserCallOutcomeUnknownException>(() => pipeline.ExecuteAsync("alice", UserOperation.Increment,
            () => ++attempts == 1 ? throw new TimeoutException("no response") : Task.FromResult(1L), CancellationToken.None));

        Assert.Equal(1, attempts);
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Equal(UserOperation.Increment, error.Operation);
        Assert.Contains("outcome unknown", error.Message, StringComparison.Ordinal);
        Assert.Equal(new ResilienceTotals(0, 0, 0, 0, 0, UnknownOutcomes: 1), counters.Snapshot());
    }

    [Fact]
    public async Task A_rejected_increment_is_retried_since_it_never_ran()
    {
        await using var pipeline = NewPipeline(out _);
        var attempts = 0;

        var value = await pipeline.ExecuteAsync("alice", UserOperation.Increment,
            () => ++attempts < 3 ? throw new GatewayTooBusyException() : Task.FromResult(7L), CancellationToken.None);

        Assert.Equal(7L, value);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task An_increment_refused_by_storage_for_a_newer_write_is_retried_and_does_not_count_against_the_silo()
    {
        await using var pipeline = NewPipeline(out _);
        var attempts = 0;

        var value = await pipeline.ExecuteAsync("alice", UserOperation.Increment,
            () => ++attempts < 2 ? throw new InconsistentStateException("ETag mismatch", "108", "107") : Task.FromResult(9L), CancellationToken.None);

        Assert.Equal(9L, value);
        Assert.Equal(2, attempts);
        Assert.False(UserCallClassifier.CountsAgainstSilo(new InconsistentStateException("ETag mismatch", "108", "107")));
    }

    [Fact]
    public async Task Bad_input_is_never_retried()
    {
        await using var pipeline = NewPipeline(out var counters);
        var attempts = 0;

        await Assert.ThrowsAsync<ArgumentException>(() => pipeline.ExecuteAsync<string?>("alice", UserOperation.Get,
            () => ++attempts > 0 ? throw new ArgumentException("empty key") : Task.FromResult<string?>(null), CancellationToken.None));

        Assert.Equal(1, attempts);
        Assert.Equal(0, counters.Snapshot().Retries);
    }

    [Fact]
    public async Task Retries_end_with_the_last_error_when_every_attempt_fails()
    {
        // Enough calls needed to judge the silo that its circuit stays closed here.
        await using var pipeline = NewPipeline(out var counters, Fast with { MinimumThroughput = 100 });
        var attempts = 0;

        await Assert.ThrowsAsync<GatewayTooBusyException>(() => pipeline.ExecuteAsync<string?>("alice", UserOperation.Get,
            () => ++attempts > 0 ? throw new GatewayTooBusyException() : Task.FromResult<string?>(null), CancellationToken.None));

        Assert.Equal(1 + Fast.MaxRetries, attempts);
        Assert.Equal(Fast.MaxRetries, counters.Snapshot().Retries);
    }

    [Fact]
    public async Task The_circuit_of_a_failing_silo_opens_while_other_silos_still_serve()
    {
        var time = new FakeTimeProvider();
        var counters = new ResilienceCounters();
        var maps = new ShardMapCache(_ => Task.FromResult<ShardMapView?>(null), counters);
        maps.Publish(Map(1));
        await using var pipeline = new UserCallPipeline(maps, counters, Fast with { MaxRetries = 1 }, timeProvider: time);
        var onA = UserOwnedBy(maps.Map!, "silo-a");
        var onB = UserOwnedBy(maps.Map!, "silo-b");
        var callsToA = 0;
        Task<string?> FailingA() => ++callsToA > 0 ? throw new SiloUnavailableException("silo-a is gone") : Task.FromResult<string?>(null);

        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => pipeline.ExecuteAsync<string?>(onA, UserOperation.Get, FailingA, CancellationToken.None));
        }

        Assert.Equal(1, counters.Snapshot().CircuitsOpened);
        var callsBefore = callsToA;

        // A call that meets the open circuit is not sent; it waits out the break instead of spending its retries.
        var aServes = false;
        var waiting = pipeline.ExecuteAsync<string?>(onA, UserOperation.Get, () => aServes ? Task.FromResult<string?>("a") : FailingA(), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(callsBefore, callsToA);
        Assert.True(counters.Snapshot().Rejected >= 1);
        Assert.Equal("b", await pipeline.ExecuteAsync<string?>(onB, UserOperation.Get, () => Task.FromResult<string?>("b"), CancellationToken.None));

        // After the break the circuit lets a probe through: the waiting call is it, silo-a answers, and it serves again.
        aServes = true;
        time.Advance(Fast.BreakDuration + TimeSpan.FromMilliseconds(1));
        Assert.Equal("a", await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("a", await pipeline.ExecuteAsync<string?>(onA, UserOperation.Get, () => Task.FromResult<string?>("a"), CancellationToken.None));
    }

    [Fact]
    public async Task A_stale_epoch_is_a_healthy_silo_answering_and_does_not_open_its_circuit()
    {
        await using var pipeline = NewPipeline(out var counters);

        for (var i = 0; i < 10; i++)
        {
            var first = true;
            await pipeline.ExecuteAsync("alice", UserOperation.Get, () =>
            {
                var stale = first;
                first = false;
                return stale ? throw new StaleShardEpochException(1, 1, "g") : Task.FromResult(0);
            }, CancellationToken.None);
        }

        Assert.Equal(0, counters.Snapshot().CircuitsOpened);
        Assert.Equal(10, counters.Snapshot().StaleEpochs);
    }

    [Fact]
    public async Task Retries_and_circuit_changes_are_logged_through_the_given_logger_factory()
    {
        var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var services = new ServiceCollection().AddResilienceEnricher().BuildServiceProvider();
        var telemetry = new TelemetryOptions(services.GetRequiredService<IOptions<TelemetryOptions>>().Value) { LoggerFactory = loggerFactory };
        var counters = new ResilienceCounters();
        var maps = new ShardMapCache(_ => Task.FromResult<ShardMapView?>(null), counters);
        await using var pipeline = new UserCallPipeline(maps, counters, Fast, telemetry, new FakeTimeProvider());
        var attempts = 0;

        await pipeline.ExecuteAsync("alice", UserOperation.Get,
            () => ++attempts == 1 ? throw new GatewayTooBusyException() : Task.FromResult(1), CancellationToken.None);

        Assert.NotEmpty(telemetry.MeteringEnrichers);
        Assert.Contains(logs.Messages, m => m.Contains("OnRetry", StringComparison.Ordinal));
    }

    private static UserCallPipeline NewPipeline(out ResilienceCounters counters, UserCallPipelineOptions? options = null)
    {
        counters = new ResilienceCounters();
        var maps = new ShardMapCache(_ => Task.FromResult<ShardMapView?>(null), counters);
        maps.Publish(Map(1));
        return new UserCallPipeline(maps, counters, options ?? Fast, timeProvider: new FakeTimeProvider());
    }

    private static ShardMap Map(long epoch) =>
        new(epoch, ["silo-a", "silo-b"], [.. Enumerable.Range(0, 16).Select(s => s % 2 == 0 ? "silo-a" : "silo-b")]);

    private static ShardMapView MapView(long epoch) => new(epoch, "raft", ShardMapCodec.Encode(Map(epoch)));

    private static string UserOwnedBy(ShardMap map, string silo) =>
        Enumerable.Range(0, 1000).Select(i => $"user-{i}").First(u => map.OwnerOf(u) == silo);

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new ListLogger(this);

        public void Dispose()
        {
        }

        private sealed class ListLogger(ListLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (provider._messages)
                {
                    provider._messages.Add(formatter(state, exception));
                }
            }
        }
    }
}
