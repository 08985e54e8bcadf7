using System.Collections.Immutable;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

/// <summary>
/// A hand-off round moves users by migrating them; a migration whose target does not answer holds its activation
/// in deactivation until Orleans' deactivation timeout (30 s). When the silo then stops, its GrainDeactivation stage
/// waits for that activation, and every call queued on the user waits with it (seen in the demo: a leaving silo took
/// 28 s to stop after handing users to a silo that had just joined). The moves must end when the silo stops.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ShardMapAgentStopTests
{
    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    [Fact]
    public async Task A_move_started_by_a_hand_off_round_is_cancelled_when_the_silo_stops()
    {
        var (agent, registry, lifecycle) = StartAgent(TimeProvider.System, residence: TimeSpan.Zero);
        await lifecycle.Observer!.OnStart(CancellationToken.None);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (agent.Current is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        // A user of a shard the map gives to silo-b, active here: the next hand-off round moves it.
        var map = agent.Current ?? throw new InvalidOperationException("the agent derived no map from membership");
        var hash = Enumerable.Range(0, 10_000).Select(i => ShardMap.HashUserId($"user-{i}")).First(h => map.OwnerOfHash(h) == "silo-b");
        var context = MigrationRecorder.Create(GrainId.Create("user-sharded", "moving"));
        registry.Register(new LocalShardRegistry.ActiveUser(context.GrainId, hash, ShardMap.ShardOfHash(hash, map.ShardCount), context));

        var recorder = (MigrationRecorder)(object)context;
        var moved = await Task.WhenAny(recorder.Migrated.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(moved == recorder.Migrated.Task, "the hand-off round did not move the misplaced user");
        var token = await recorder.Migrated.Task;
        Assert.True(token.CanBeCanceled, "the move carries no token: nothing of this silo's can end it while it is queued behind an unanswered batch");

        await lifecycle.Observer.OnStop(CancellationToken.None);
        Assert.True(token.IsCancellationRequested, "the silo stopped but the move it started goes on, holding the user's deactivation");
        agent.Dispose();
    }

    [Fact]
    public async Task A_user_that_just_arrived_is_moved_only_after_the_minimum_residence()
    {
        // Two epochs a moment apart can send a user one way and straight back; a move that starts while the previous
        // one's handshake is open deadlocks Orleans' migration for 30 s. The hand-off rounds leave new arrivals alone.
        var time = new FakeTimeProvider();
        var (agent, registry, lifecycle) = StartAgent(time, residence: TimeSpan.FromSeconds(2));
        await lifecycle.Observer!.OnStart(CancellationToken.None);
        for (var i = 0; i < 200 && agent.Current is null; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            await Task.Delay(5);
        }

        var map = agent.Current ?? throw new InvalidOperationException("the agent derived no map from membership");
        var hash = Enumerable.Range(0, 10_000).Select(i => ShardMap.HashUserId($"user-{i}")).First(h => map.OwnerOfHash(h) == "silo-b");
        var context = MigrationRecorder.Create(GrainId.Create("user-sharded", "arrived"));
        var user = new LocalShardRegistry.ActiveUser(context.GrainId, hash, ShardMap.ShardOfHash(hash, map.ShardCount), context, time.GetTimestamp());
        registry.Register(user);
        var recorder = (MigrationRecorder)(object)context;

        // Many hand-off rounds within the residence: none moves it.
        for (var i = 0; i < 90; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            await Task.Delay(2);
        }

        Assert.False(recorder.Migrated.Task.IsCompleted, "a user 1.8 s after its arrival was moved again");
        Assert.False(user.HasResided(time, TimeSpan.FromSeconds(2)));

        time.Advance(TimeSpan.FromMilliseconds(200));
        for (var i = 0; i < 200 && !recorder.Migrated.Task.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            await Task.Delay(5);
        }

        Assert.True(recorder.Migrated.Task.IsCompleted, "the user was not moved once it had stayed the minimum residence");
        await lifecycle.Observer.OnStop(CancellationToken.None);
        agent.Dispose();
    }

    private static (ShardMapAgent Agent, LocalShardRegistry Registry, CapturingLifecycle Lifecycle) StartAgent(TimeProvider time, TimeSpan residence)
    {
        var local = Silo(11111);
        var other = Silo(11112);
        var membership = new FixedMembership(new ClusterMembershipSnapshot(
            ImmutableDictionary<SiloAddress, ClusterMember>.Empty
                .Add(local, new ClusterMember(local, SiloStatus.Active, "silo-a"))
                .Add(other, new ClusterMember(other, SiloStatus.Active, "silo-b")),
            new MembershipVersion(5)));
        var options = Options.Create(new ShardingOptions
        {
            MapSource = ShardMapSource.Membership,
            ShardCount = 64,
            RefreshInterval = TimeSpan.FromMilliseconds(20),
            HandOffInterval = TimeSpan.FromMilliseconds(20),
            MinimumResidence = residence,
        });
        var registry = new LocalShardRegistry(options, time);
        var agent = new ShardMapAgent(options, membership, new LocalSilo(local, "silo-a"), null!, registry, EmptyServices, time, NullLogger<ShardMapAgent>.Instance);
        var lifecycle = new CapturingLifecycle();
        agent.Participate(lifecycle);
        return (agent, registry, lifecycle);
    }

    private static readonly IServiceProvider EmptyServices = new ServiceCollection().BuildServiceProvider();

    private sealed class FixedMembership(ClusterMembershipSnapshot snapshot) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot => snapshot;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);
    }

    private sealed class LocalSilo(SiloAddress address, string name) : ILocalSiloDetails
    {
        public string Name => name;

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => address;

        public SiloAddress GatewayAddress => address;
    }

    private sealed class CapturingLifecycle : ISiloLifecycle
    {
        public ILifecycleObserver? Observer { get; private set; }

        public int HighestCompletedStage => 0;

        public int LowestStoppedStage => 0;

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            Observer = observer;
            return new CancellationTokenSource();
        }
    }

    /// <summary>An activation that records the token its migration was started with, and otherwise does nothing.</summary>
    public class MigrationRecorder : DispatchProxy
    {
        private GrainId _id;

        public TaskCompletionSource<CancellationToken> Migrated { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static IGrainContext Create(GrainId id)
        {
            var proxy = Create<IGrainContext, MigrationRecorder>();
            ((MigrationRecorder)(object)proxy)._id = id;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod?.Name)
            {
                case nameof(IGrainContext.Migrate):
                    Migrated.TrySetResult(args is [_, CancellationToken token] ? token : CancellationToken.None);
                    return null;
                case "get_" + nameof(IGrainContext.GrainId):
                    return _id;
                default:
                    return targetMethod?.ReturnType is { IsValueType: true } type && type != typeof(void) ? Activator.CreateInstance(type) : null;
            }
        }
    }
}
