using Orleans.Patterns.Sharding;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Telemetry;

namespace Orleans.Patterns.Client.Workload.Resilience;

/// <summary>How hard the client tries a user call; the defaults suit a local cluster.</summary>
internal sealed record UserCallPipelineOptions
{
    /// <summary>Budget of one operation, retries and their delays included.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Budget of one attempt; below Orleans' 30 s response timeout so a silent silo is left sooner.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Retries after the first attempt.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>Median delay before the first retry; later ones grow exponentially, with jitter, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Share of failed calls to one silo, within <see cref="SamplingDuration"/>, that opens its circuit.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>Calls to one silo within <see cref="SamplingDuration"/> before its failure ratio counts.</summary>
    public int MinimumThroughput { get; init; } = 20;

    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an open circuit rejects calls before letting one through to probe the silo.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The resilience of user-grain calls, as Polly v8 pipelines: an outer pipeline per operation (total timeout, then retries
/// with exponential backoff and jitter, Polly's decorrelated-jitter backoff) around, for each attempt, the pipeline of the
/// silo that owns the user in the client's shard map (a circuit breaker per silo, then the attempt's timeout), kept in a
/// <see cref="ResiliencePipelineRegistry{TKey}"/> keyed by silo name. Each attempt looks the owner up again, so a retry after
/// a map change goes through the new owner's circuit. Which failures are retried: see <see cref="UserCallClassifier"/>.
/// </summary>
internal sealed class UserCallPipeline : IAsyncDisposable
{
    private static readonly ResiliencePropertyKey<UserOperation> OperationKey = new("patterns.user-operation");

    private readonly ShardMapCache _maps;
    private readonly ResilienceCounters _counters;
    private readonly UserCallPipelineOptions _options;
    private readonly ResiliencePipeline _outer;
    private readonly ResiliencePipelineRegistry<string> _silos;

    /// <param name="maps">The client's shard map: owner lookups and the epoch sent with each call.</param>
    /// <param name="counters">Where retries, stale epochs, circuit openings and rejections are counted.</param>
    /// <param name="options">Timeouts, retries and circuit thresholds.</param>
    /// <param name="telemetry">Polly's logging and metering (with the client's logger factory), or null for none.</param>
    /// <param name="timeProvider">The clock of delays, timeouts and circuits (a fake one in tests).</param>
    public UserCallPipeline(ShardMapCache maps, ResilienceCounters counters, UserCallPipelineOptions? options = null,
        TelemetryOptions? telemetry = null, TimeProvider? timeProvider = null)
    {
        _maps = maps;
        _counters = counters;
        _options = options ?? new UserCallPipelineOptions();
        var time = timeProvider ?? TimeProvider.System;
        var outer = new ResiliencePipelineBuilder { Name = "user-calls", TimeProvider = time };
        if (telemetry is not null)
        {
            outer.ConfigureTelemetry(telemetry);
        }

        _outer = outer
            .AddTimeout(_options.TotalTimeout)
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && UserCallClassifier.ShouldRetry(
                        args.Context.Properties.GetValue(OperationKey, UserOperation.Increment), e, args.Context.CancellationToken.IsCancellationRequested)),
                MaxRetryAttempts = _options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryDelay,
                MaxDelay = _options.MaxRetryDelay,

                // A refusal for a stale epoch names the new one: nothing to wait for, retry at once with it. An open
                // circuit says when it will let a probe through: wait that long (a little more, so that callers do not
                // all arrive together), or the retries would be spent in a fraction of the break and the operation fail
                // although its silo serves again well within its budget (a joining silo's circuit, opened by calls
                // forwarded while its users migrate, did this to a demo run).
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Exception switch
                {
                    StaleShardEpochException => TimeSpan.Zero,
                    BrokenCircuitException { RetryAfter: { } after } => after + (_options.RetryDelay * Random.Shared.NextDouble()),
                    _ => null,
                }),
                OnRetry = async args =>
                {
                    _counters.Retry();
                    if (args.Outcome.Exception is StaleShardEpochException stale)
                    {
                        _counters.StaleEpoch();
                        await _maps.AdoptAsync(stale.CurrentEpoch, args.Context.CancellationToken);
                    }
                },
            })
            .Build();

        _silos = new ResiliencePipelineRegistry<string>(new ResiliencePipelineRegistryOptions<string>
        {
            BuilderFactory = () =>
            {
                var builder = new ResiliencePipelineBuilder { TimeProvider = time };
                if (telemetry is not null)
                {
                    builder.ConfigureTelemetry(telemetry);
                }

                return builder;
            },
            BuilderNameFormatter = _ => "user-calls-per-silo",
            InstanceNameFormatter = silo => silo,
        });
    }

    public ResilienceCounters Counters => _counters;

    public ShardMapCache Maps => _maps;

    /// <summary>
    /// Makes <paramref name="call"/> for <paramref name="userId"/> with the known epoch in the request context, retrying as
    /// <paramref name="operation"/> allows. A non-idempotent call whose outcome is unknown fails with
    /// <see cref="UserCallOutcomeUnknownException"/>; other failures with their own exception once retries are spent.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(string userId, UserOperation operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(OperationKey, operation);
        try
        {
            return await _outer.ExecuteAsync(
                static (ctx, state) => state.Self.AttemptAsync(state.UserId, state.Call, ctx), context, (Self: this, UserId: userId, Call: call));
        }
        catch (Exception e) when (UserCallClassifier.Classify(e) == UserCallFailure.OutcomeUnknown && !UserCallClassifier.IsIdempotent(operation))
        {
            _counters.UnknownOutcome();
            throw new UserCallOutcomeUnknownException(operation, userId, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<T> AttemptAsync<T>(string userId, Func<Task<T>> call, ResilienceContext context)
    {
        var silo = _maps.OwnerOf(userId);
        var pipeline = _silos.GetOrAddPipeline(silo, ConfigureSilo);
        try
        {
            return await pipeline.ExecuteAsync(static async (ctx, state) =>
            {
                // Set here, in the attempt's own async flow, so the call carries the epoch known at this attempt.
                ShardEpochContext.Set(state.Epoch);

                // Grain calls take no token: stop waiting when a timeout fires, as Polly's timeouts need.
                return await state.Call().WaitAsync(ctx.CancellationToken);
            }, context, (Call: call, Epoch: _maps.Epoch));
        }
        catch (BrokenCircuitException)
        {
            _counters.Rejection();
            throw;
        }
    }

    private void ConfigureSilo(ResiliencePipelineBuilder builder) => builder
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && UserCallClassifier.CountsAgainstSilo(e)),
            FailureRatio = _options.FailureRatio,
            MinimumThroughput = _options.MinimumThroughput,
            SamplingDuration = _options.SamplingDuration,
            BreakDuration = _options.BreakDuration,
            OnOpened = _ =>
            {
                _counters.CircuitOpened();
                return ValueTask.CompletedTask;
            },
        })
        .AddTimeout(_options.AttemptTimeout);

    public ValueTask DisposeAsync() => _silos.DisposeAsync();
}
