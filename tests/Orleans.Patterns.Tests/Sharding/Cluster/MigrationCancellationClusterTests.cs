using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Runtime.Diagnostics;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Sharding.Cluster;

/// <summary>A grain that migrates on request, and whose activation of a chosen key on a chosen silo hangs (a target not answering).</summary>
public interface IStuckMoveGrain : IGrainWithStringKey
{
    Task<SiloAddress> Where();

    /// <summary>Starts a migration to <paramref name="target"/> with a token cancelled after <paramref name="cancelAfterMs"/> (none if negative).</summary>
    Task Move(SiloAddress target, int cancelAfterMs);
}

public sealed class StuckMoveGrain(ILocalSiloDetails silo) : Grain, IStuckMoveGrain
{
    /// <summary>Grain key → the silo where its activation hangs until <see cref="Release"/>.</summary>
    public static readonly ConcurrentDictionary<string, SiloAddress> HangOn = new();
    public static readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (HangOn.TryGetValue(this.GetPrimaryKeyString(), out var hang) && hang.Equals(silo.SiloAddress))
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
/// What the shard map agent's moves rely on, on the Orleans version in use. A silo sends its migrations to one target
/// one batch at a time, and a batch waits for the target to accept it (bounded only by the system response timeout,
/// 30 s by default). The token given to <see cref="IGrainContext.Migrate"/> ends a migration still queued behind a
/// batch that is not answered, so the source activation deactivates; a migration already sent waits for the target's
/// answer whatever its token. Hence the agent's two defences: its stop token releases a leaving silo's queued moves,
/// and <see cref="Orleans.Patterns.Sharding.ShardingOptions.MinimumResidence"/> keeps a user from being sent
/// back to a silo whose own move of that user is still unanswered.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class MigrationCancellationClusterTests : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<(GrainId, SiloAddress), TaskCompletionSource> _deactivated = new();

    [Fact]
    public async Task A_queued_migration_ends_when_its_token_is_cancelled_and_a_sent_one_waits_for_its_target()
    {
        using var listeners = DiagnosticListener.AllListeners.Subscribe(this);
        var builder = new InProcessTestClusterBuilder(2);
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var a = cluster.Silos[0].SiloAddress;
        var b = cluster.Silos[1].SiloAddress;
        try
        {
            // Placed before any silo hangs: two grains on a, one on b.
            var unanswered = await PlaceAsync(cluster, "unanswered", a);
            var queued = await PlaceAsync(cluster, "queued", a);
            var sent = await PlaceAsync(cluster, "sent", b);

            // a → b, no token: the batch is sent and b never answers, so the source activation waits.
            Assert.False(await MoveAndWaitAsync(unanswered, "unanswered", a, b, cancelAfterMs: -1),
                "expected a migration to a target that does not answer to hold its source activation");

            // a → b again, with a token: queued behind the unanswered batch, so cancelling it ends the wait.
            Assert.True(await MoveAndWaitAsync(queued, "queued", a, b, cancelAfterMs: 300, patience: TimeSpan.FromSeconds(10)),
                "a migration queued behind an unanswered batch was cancelled, yet its source activation still waits");

            // b → a with a token: sent at once to a target that does not answer, the token does not end it.
            Assert.False(await MoveAndWaitAsync(sent, "sent", b, a, cancelAfterMs: 300),
                "expected a migration already sent to wait for its target despite its token (Orleans changed: revisit ShardMapAgent.Stopping)");
        }
        finally
        {
            StuckMoveGrain.Release.TrySetResult();
        }
    }

    /// <summary>Activates the grain <paramref name="key"/> and, if it landed elsewhere, migrates it to <paramref name="silo"/>.</summary>
    private static async Task<IStuckMoveGrain> PlaceAsync(InProcessTestCluster cluster, string key, SiloAddress silo)
    {
        var grain = cluster.Client.GetGrain<IStuckMoveGrain>(key);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!(await grain.Where()).Equals(silo))
        {
            Assert.True(DateTime.UtcNow < deadline, $"grain {key} did not reach {silo}");
            await grain.Move(silo, cancelAfterMs: -1);
            await Task.Delay(100);
        }

        return grain;
    }

    /// <summary>Makes the grain's activation on <paramref name="target"/> hang, starts its migration there, and says whether the source activation ended.</summary>
    private async Task<bool> MoveAndWaitAsync(IStuckMoveGrain grain, string key, SiloAddress source, SiloAddress target, int cancelAfterMs, TimeSpan? patience = null)
    {
        StuckMoveGrain.HangOn[key] = target;
        var gone = _deactivated.GetOrAdd((grain.GetGrainId(), source), _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        await grain.Move(target, cancelAfterMs);
        return await Task.WhenAny(gone.Task, Task.Delay(patience ?? Patience)) == gone.Task;
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
