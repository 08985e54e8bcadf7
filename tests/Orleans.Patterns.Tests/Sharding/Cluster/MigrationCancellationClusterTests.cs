using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Runtime.Diagnostics;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Sharding.Cluster;

/// <summary>A grain that migrates on request, and whose activation on a chosen silo hangs (a target not answering).</summary>
public interface IStuckMoveGrain : IGrainWithStringKey
{
    Task<SiloAddress> Where();

    /// <summary>Starts a migration to <paramref name="target"/> with a token cancelled after <paramref name="cancelAfterMs"/> (none if negative).</summary>
    Task Move(SiloAddress target, int cancelAfterMs);
}

public sealed class StuckMoveGrain(ILocalSiloDetails silo) : Grain, IStuckMoveGrain
{
    public static volatile SiloAddress? HangOn;
    public static TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (HangOn is { } hang && hang.Equals(silo.SiloAddress))
        {
            await Release.Task.WaitAsync(cancellationToken);
        }
    }

    public Task<SiloAddress> Where() => Task.FromResult(silo.SiloAddress);

    public Task Move(SiloAddress target, int cancelAfterMs)
    {
        var token = cancelAfterMs < 0 ? CancellationToken.None : new CancellationTokenSource(cancelAfterMs).Token;
        GrainContext.Migrate(new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = target }, token);
        return Task.CompletedTask;
    }
}

/// <summary>
/// What the shard map agent's fix relies on, on the Orleans version in use: a migration whose target never
/// acknowledges holds the source activation in deactivation (here for as long as the target hangs), and the token
/// given to <see cref="IGrainContext.Migrate"/> ends that wait.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class MigrationCancellationClusterTests : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    private readonly ConcurrentDictionary<(GrainId, SiloAddress), TaskCompletionSource> _deactivated = new();

    [Fact]
    public async Task A_migration_to_a_target_that_does_not_answer_ends_when_its_token_is_cancelled()
    {
        using var listeners = DiagnosticListener.AllListeners.Subscribe(this);
        var builder = new InProcessTestClusterBuilder(2);
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            foreach (var (key, cancelAfterMs, shouldEnd) in new[] { ("no-token", -1, false), ("token", 300, true) })
            {
                // No silo hangs while the grain is first placed: the previous round's target may be where it lands.
                StuckMoveGrain.HangOn = null;
                var grain = cluster.Client.GetGrain<IStuckMoveGrain>(key);
                var source = await grain.Where();
                var target = cluster.Silos.Select(s => s.SiloAddress).First(s => !s.Equals(source));
                StuckMoveGrain.HangOn = target;
                var gone = _deactivated.GetOrAdd((grain.GetGrainId(), source), _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

                await grain.Move(target, cancelAfterMs);
                var ended = await Task.WhenAny(gone.Task, Task.Delay(TimeSpan.FromSeconds(5))) == gone.Task;
                Assert.True(ended == shouldEnd, shouldEnd
                    ? "the migration's token was cancelled, yet the source activation still waits for the target"
                    : "expected the source activation to wait for the hanging target (the failure this guards against)");
            }
        }
        finally
        {
            StuckMoveGrain.Release.TrySetResult();
        }
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener value)
    {
        if (value.Name == GrainLifecycleEvents.ListenerName)
        {
            value.Subscribe(this);
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Value is GrainLifecycleEvents.Deactivated d && d.GrainContext.Address?.SiloAddress is { } silo)
        {
            _deactivated.GetOrAdd((d.GrainContext.GrainId, silo), _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }
}
