using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Orleans.Patterns.Chaos;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.History;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.Patterns.Tests.Linearizability;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft.Cluster;

/// <summary>
/// The replicated key/value store under a nemesis: concurrent client sessions run a random put/get/cas workload
/// while the network between replicas is partitioned, made lossy and slow, and a replica's silo is killed and
/// brought back under its name. Afterwards the recorded history must be linearizable and every replica must hold
/// the same state. The seed fixes the workload and the nemesis' choices, not the thread timing: a replay repeats the
/// same faults in the same order, and the checker judges whatever interleaving the run produced.
/// </summary>
/// <remarks>
/// What it catches and what it cannot: a replica that acknowledges a put before it commits fails this test on the
/// seeds tried (the isolated leader's acknowledged writes vanish). A deposed leader serving reads from its own state
/// without ReadIndex passed it: chaos never faults client calls, so every session keeps talking to the old leader
/// until check-quorum deposes it, which happens about when the others elect a new one, leaving next to no window in
/// which a stale read is observable. Finding it needs clients that can be cut off from a replica, which chaos does not do.
/// </remarks>
[Trait("Category", "Cluster")]
public sealed class RaftNemesisTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string SeedVariable = "RAFT_NEMESIS_SEED";
    private const int DefaultSeed = 20260427;
    private const int Sessions = 4;

    // The coordination store's sessions take client numbers after the key/value store's, and keys of their own, so the
    // checker judges both stores in one history (it partitions by key).
    private const int CoordinationSessions = 3;
    private const int Rounds = 2;

    // Few keys, so operations on one key overlap a lot: that is where a stale read or a lost write shows.
    private static readonly string[] Keys = ["k0", "k1", "k2"];
    private static readonly string[] CoordinationKeys = ["c0", "c1", "c2"];
    private static readonly ImmutableArray<string> RaftOnly = [nameof(IRaftReplicaGrain)];
    private static readonly TimeSpan SettleDeadline = TimeSpan.FromSeconds(30);

    // Long enough for an election and a few hundred client operations to happen under the fault.
    private static readonly TimeSpan FaultHold = TimeSpan.FromMilliseconds(1500);

    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "orleans-patterns-raft-nemesis-" + Guid.NewGuid().ToString("N"));
    private readonly int _seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
    // Silos this test restarted itself: the cluster does not track them (see RestartAsync), so the test stops them.
    private readonly Dictionary<string, InProcessSiloHandle> _restarted = new(StringComparer.Ordinal);
    private InProcessTestCluster _cluster = null!;
    private IReadOnlyList<string> _voters = [];

    public async Task InitializeAsync()
    {
        output.WriteLine($"seed={_seed} (replay with {SeedVariable}={_seed}); data under {_dataRoot}");
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo
            .AddRaftReplicas(o =>
            {
                o.DataDirectory = _dataRoot;
                o.InitialVoters = ["Silo_0", "Silo_1", "Silo_2"];
            })
            .AddChaos(o =>
            {
                // Silo-local drop and jitter decisions replay from the seed too (mixed with the silo name).
                o.Seed = _seed;
                o.ScopedInterfaces.Add(nameof(IRaftReplicaGrain));
            }));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        _voters = await _cluster.Client.GetActiveSiloNamesAsync();
    }

    public async Task DisposeAsync()
    {
        // Silos started outside the cluster's own bookkeeping (see RestartAsync) are not stopped by it.
        foreach (var silo in _restarted.Values)
        {
            await silo.StopSiloAsync(stopGracefully: false);
            await silo.DisposeAsync();
        }

        await _cluster.DisposeAsync();
        if (Directory.Exists(_dataRoot))
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
    }

    [Fact]
    public async Task Concurrent_sessions_under_partitions_loss_delay_and_a_crash_restart_stay_linearizable_and_replicas_converge()
    {
        var history = new HistoryRecorder();
        var clock = Stopwatch.StartNew();
        try
        {
            await WaitForSingleLeaderAsync("start");
            var stop = new CancellationTokenSource();
            var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            // The sessions share one channel, so their concurrent writes travel in batches that the nemesis breaks too.
            var channel = new RaftKvChannel(_cluster.Client, _voters);
            var sessions = Enumerable.Range(0, Sessions)
                .Select(i => new RaftKvClient(channel, $"nemesis-{_seed}-{i}") { Deadline = TimeSpan.FromSeconds(4) })
                .ToList();

            var coordination = Enumerable.Range(0, CoordinationSessions)
                .Select(i => new CoordinationClient(_cluster.Client, () => _voters, $"nemesis-coordination-{_seed}-{i}-{Guid.NewGuid():N}", sessions: 1))
                .ToList();
            coordination.ForEach(c => c.Router.Deadline = TimeSpan.FromSeconds(4));

            // A watch on the coordination keys, served by a replica the nemesis may kill: it must see every change
            // once, in order, whichever replica serves it after a crash.
            var watchFrom = (await coordination[0].RangeAsync(new RangeRequest(CoordinationPrefix) { RangeEnd = ByteKeys.PrefixEnd(CoordinationPrefix), CountOnly = true })).Revision + 1;
            var watched = new List<Event>();
            using var stopWatch = new CancellationTokenSource();
            var watcher = Task.Run(() => WatchAsync(watchFrom, watched, stopWatch.Token));

            // Each session gets its own Random derived from the seed, so its sequence of operations replays.
            var workload = sessions.Select((kv, i) => Task.Run(() => RunSessionAsync(i, kv, new Random(HashCode.Combine(_seed, i)), history, errors, stop.Token))).ToList();
            workload.AddRange(coordination.Select((c, i) => Task.Run(() =>
                RunCoordinationSessionAsync(Sessions + i, c, new Random(HashCode.Combine(_seed, Sessions + i)), history, errors, stop.Token))));
            await RunNemesisAsync(new Random(_seed));
            await stop.CancelAsync();
            await Task.WhenAll(workload);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: workload stopped after {history.Count} operations; errors: " +
                             (errors.IsEmpty ? "none" : string.Join(", ", errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key} x{e.Value}"))));

            await _cluster.Client.HealEverywhereAsync();
            var leader = await WaitForSingleLeaderAsync("after healing");

            // Final reads, through the same sessions: each acknowledged write must show here unless a later one
            // overwrote it, and the checker judges that together with everything before.
            foreach (var (kv, i) in sessions.Select((kv, i) => (kv, i)))
            {
                foreach (var key in Keys)
                {
                    var handle = history.Invoke(i, HistoryOpKind.Get, key);
                    var read = await kv.GetAsync(key);
                    history.Complete(handle, ok: true, output: read.Value);
                }
            }

            foreach (var (c, i) in coordination.Select((c, i) => (c, i)))
            {
                foreach (var key in CoordinationKeys)
                {
                    var handle = history.Invoke(Sessions + i, HistoryOpKind.Get, key);
                    var read = await c.RangeAsync(new RangeRequest(Encoding.UTF8.GetBytes(key)));
                    history.Complete(handle, ok: true, output: Value(read));
                }
            }

            await CheckWatchAsync(coordination[0], watchFrom, watched);
            await stopWatch.CancelAsync();
            await watcher;

            var digests = await WaitForConvergenceAsync();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: converged on leader {leader}: " +
                             string.Join("; ", digests.Select(d => $"{d.Node} applied {d.AppliedIndex}, {d.Keys} keys, {d.Sha256[..12]}")));

            var operations = history.Snapshot();
            output.WriteLine(Summarize(operations));
            var result = LinearizabilityChecker.Check(operations, new CheckerBudget(TimeSpan.FromSeconds(30), 200_000_000));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: checker: {result}");
            Assert.True(result.Outcome == LinearizabilityOutcome.Linearizable, $"seed {_seed} (replay with {SeedVariable}={_seed}): {result}");
        }
        catch
        {
            var file = Path.Combine(AppContext.BaseDirectory, $"raft-nemesis-{_seed}.history.jsonl");
            HistoryJson.WriteFile(file, history.Snapshot());
            output.WriteLine($"history ({history.Count} operations) written to {file}");
            throw;
        }
    }

    private static async Task RunSessionAsync(
        int client,
        RaftKvClient kv,
        Random random,
        HistoryRecorder history,
        ConcurrentDictionary<string, int> errors,
        CancellationToken stop)
    {
        // The last value this session saw per key: a cas that expects it usually competes with the other sessions.
        var seen = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = Keys[random.Next(Keys.Length)];
            var value = $"{client}.{n}"; // unique per operation, so a read names exactly one write
            var roll = random.Next(10);
            var op = roll < 4 ? HistoryOpKind.Get : roll < 7 ? HistoryOpKind.Put : HistoryOpKind.Cas;
            var expected = op == HistoryOpKind.Cas ? seen.GetValueOrDefault(key) : null;
            var handle = op switch
            {
                HistoryOpKind.Get => history.Invoke(client, op, key),
                HistoryOpKind.Put => history.Invoke(client, op, key, value),
                _ => history.Invoke(client, op, key, value, expected),
            };
            try
            {
                switch (op)
                {
                    case HistoryOpKind.Get:
                        var read = await kv.GetAsync(key, CancellationToken.None);
                        history.Complete(handle, ok: true, output: read.Value);
                        seen[key] = read.Value;
                        break;
                    case HistoryOpKind.Put:
                        await kv.PutAsync(key, value, CancellationToken.None);
                        history.Complete(handle, ok: true);
                        seen[key] = value;
                        break;
                    default:
                        var swap = await kv.CompareAndSwapAsync(key, expected, value, CancellationToken.None);
                        history.Complete(handle, ok: true, swapped: swap.Applied);
                        seen[key] = swap.Applied ? value : swap.Previous;
                        break;
                }
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                // The session gave up (TimeoutException, carrying OutcomeUnknownException or a lost leader) or the
                // call broke: a write may still have been committed, so its outcome is unknown, never "failed".
                // An unknown read constrains nothing and the checker drops it.
                history.Unknown(handle);
                errors.AddOrUpdate($"{op} {e.GetType().Name}", 1, (_, c) => c + 1);
            }

            // Pacing, not synchronisation: keeps four sessions from saturating two cores.
            await Task.Delay(random.Next(2, 12), CancellationToken.None);
        }
    }

    private static readonly byte[] CoordinationPrefix = "c"u8.ToArray();

    private static string? Value(RangeResponse response) => response.Kvs.Count == 0 ? null : Encoding.UTF8.GetString(response.Kvs[0].Value);

    /// <summary>
    /// A session of the coordination store: linearizable gets, puts, deletes, compare-and-swaps as txns (compare the
    /// value, or that the key does not exist), and two-key txns (read one key, write another, atomically).
    /// </summary>
    private static async Task RunCoordinationSessionAsync(
        int client,
        CoordinationClient store,
        Random random,
        HistoryRecorder history,
        ConcurrentDictionary<string, int> errors,
        CancellationToken stop)
    {
        var seen = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = CoordinationKeys[random.Next(CoordinationKeys.Length)];
            var k = Encoding.UTF8.GetBytes(key);
            var value = $"{client}.{n}";
            var v = Encoding.UTF8.GetBytes(value);
            var roll = random.Next(20);
            var op = roll < 7 ? HistoryOpKind.Get : roll < 12 ? HistoryOpKind.Put : roll < 16 ? HistoryOpKind.Cas : roll < 17 ? HistoryOpKind.Delete : HistoryOpKind.Txn;
            var other = CoordinationKeys[(Array.IndexOf(CoordinationKeys, key) + 1) % CoordinationKeys.Length];
            var expected = op == HistoryOpKind.Cas ? seen.GetValueOrDefault(key) : null;
            var handle = op switch
            {
                HistoryOpKind.Txn => history.InvokeTxn(client, [new HistoryTxnOp { Op = HistoryOpKind.Get, Key = key }, new HistoryTxnOp { Op = HistoryOpKind.Put, Key = other, Value = value }]),
                HistoryOpKind.Cas => history.Invoke(client, op, key, value, expected),
                HistoryOpKind.Put => history.Invoke(client, op, key, value),
                _ => history.Invoke(client, op, key),
            };
            try
            {
                switch (op)
                {
                    case HistoryOpKind.Get:
                        var read = Value(await store.RangeAsync(new RangeRequest(k), CancellationToken.None));
                        history.Complete(handle, ok: true, output: read);
                        seen[key] = read;
                        break;
                    case HistoryOpKind.Put:
                        await store.PutAsync(new PutRequest(k, v), CancellationToken.None);
                        history.Complete(handle, ok: true);
                        seen[key] = value;
                        break;
                    case HistoryOpKind.Delete:
                        await store.DeleteRangeAsync(new DeleteRangeRequest(k), CancellationToken.None);
                        history.Complete(handle, ok: true);
                        seen[key] = null;
                        break;
                    case HistoryOpKind.Cas:
                        var compare = expected is null
                            ? new Compare(k, CompareTarget.Create, CompareResult.Equal) { CreateRevision = 0 }
                            : new Compare(k, CompareTarget.Value, CompareResult.Equal) { Value = Encoding.UTF8.GetBytes(expected) };
                        var swap = await store.TxnAsync(new TxnRequest([compare], [new PutRequest(k, v)], [new RangeRequest(k)]), CancellationToken.None);
                        history.Complete(handle, ok: true, swapped: swap.Succeeded);
                        seen[key] = swap.Succeeded ? value : Value(swap.Responses[0].ResponseRange!);
                        break;
                    default:
                        var txn = await store.TxnAsync(new TxnRequest([], [new RangeRequest(k), new PutRequest(Encoding.UTF8.GetBytes(other), v)], []), CancellationToken.None);
                        var got = Value(txn.Responses[0].ResponseRange!);
                        history.Complete(handle, ok: true, txnResults:
                        [
                            new HistoryTxnOp { Op = HistoryOpKind.Get, Key = key, Output = got },
                            new HistoryTxnOp { Op = HistoryOpKind.Put, Key = other, Value = value },
                        ]);
                        seen[key] = got;
                        seen[other] = value;
                        break;
                }
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                history.Unknown(handle);
                errors.AddOrUpdate($"coordination {op} {e.GetType().Name}", 1, (_, c) => c + 1);
            }

            await Task.Delay(random.Next(2, 12), CancellationToken.None);
        }
    }

    /// <summary>Follows the coordination keys from <paramref name="from"/>, served first by Silo_1's replica (which the nemesis may kill).</summary>
    private async Task WatchAsync(long from, List<Event> watched, CancellationToken stop)
    {
        var watcher = new CoordinationClient(_cluster.Client, () => _voters, $"nemesis-watch-{Guid.NewGuid():N}") { LocalReplica = "Silo_1" };
        var request = new WatchRequest(CoordinationPrefix) { RangeEnd = ByteKeys.PrefixEnd(CoordinationPrefix), StartRevision = from, PrevKv = true };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var response in watcher.WatchAsync(request, TimeSpan.FromMilliseconds(300), stop))
                {
                    lock (watched)
                    {
                        watched.AddRange(response.Events);
                        request = request with { StartRevision = watched.Count > 0 ? watched[^1].Kv.ModRevision + 1 : from };
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                // Every replica unreachable for a while (a crash during a partition): resume from the last revision seen.
                output.WriteLine($"watch: {e.GetType().Name}: {e.Message}; resuming from revision {request.StartRevision}");
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// The watch saw exactly the store's history of the coordination keys since it started: every event once, in
    /// revision order, none missing, with the same values, although the replica serving it crashed and restarted.
    /// </summary>
    private async Task CheckWatchAsync(CoordinationClient reader, long from, List<Event> watched)
    {
        var request = new WatchRequest(CoordinationPrefix) { RangeEnd = ByteKeys.PrefixEnd(CoordinationPrefix), StartRevision = from, PrevKv = true };
        var truth = (await reader.WatchOnceAsync(request, TimeSpan.Zero)).Events;
        await Eventually.WaitAsync(
            () =>
            {
                lock (watched)
                {
                    return Task.FromResult(watched.Count >= truth.Count);
                }
            },
            SettleDeadline,
            () => $"the watch catching up with {truth.Count} events (has {watched.Count})");
        static string Show(Event e) => $"{e.Kv.ModRevision} {e.Type} {Encoding.UTF8.GetString(e.Kv.Key)}={Encoding.UTF8.GetString(e.Kv.Value)} prev {(e.PrevKv is null ? "-" : Encoding.UTF8.GetString(e.PrevKv.Value))}";
        List<string> seen;
        lock (watched)
        {
            seen = watched.Select(Show).ToList();
        }

        output.WriteLine($"watch: {seen.Count} events from revision {from}, the store's history has {truth.Count}");
        Assert.Equal(truth.Select(Show), seen);
    }

    private async Task RunNemesisAsync(Random random)
    {
        // Each round applies every fault once, in an order the seed picks; the faults heal between steps so each
        // one is seen on its own, and the cluster gets to recover from it under load.
        var faults = new Func<Random, Task>[] { IsolateLeaderAsync, LossAndDelayAsync, CrashAndRestartAsync };
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var fault in faults.OrderBy(_ => random.Next()).ToList())
            {
                await fault(random);
            }
        }
    }

    private async Task IsolateLeaderAsync(Random random)
    {
        var leader = await CurrentLeaderAsync() ?? _voters[random.Next(_voters.Count)];
        var others = _voters.Where(v => v != leader).ToImmutableArray();
        output.WriteLine($"nemesis: isolate {leader} from {string.Join(", ", others)}");
        await _cluster.Client.SetRulesEverywhereAsync([new PartitionRule("isolate-leader", RaftOnly, [[leader], others])]);
        await Task.Delay(FaultHold);
        await _cluster.Client.HealEverywhereAsync();
        output.WriteLine("nemesis: heal");
    }

    private async Task LossAndDelayAsync(Random random)
    {
        var jitter = TimeSpan.FromMilliseconds(random.Next(20, 80));
        output.WriteLine($"nemesis: drop 20% of replica messages, delay up to {jitter.TotalMilliseconds} ms");
        await _cluster.Client.SetRulesEverywhereAsync(
        [
            new DropRule("drop", RaftOnly, ChaosLinks.Any, 0.2),
            new DelayRule("delay", RaftOnly, ChaosLinks.Any, TimeSpan.Zero, jitter),
        ]);
        await Task.Delay(FaultHold);
        await _cluster.Client.HealEverywhereAsync();
        output.WriteLine("nemesis: heal");
    }

    private async Task CrashAndRestartAsync(Random random)
    {
        // Never Silo_0, the primary silo the client first connects through; a kill needs no leader knowledge, so
        // the victim is the leader or a follower as it happens.
        var name = random.Next(2) == 0 ? "Silo_1" : "Silo_2";
        output.WriteLine($"nemesis: kill {name}");
        InProcessSiloHandle victim;
        if (_restarted.Remove(name, out var ours))
        {
            victim = ours;
            await ours.StopSiloAsync(stopGracefully: false);
            await ours.DisposeAsync();
        }
        else
        {
            victim = _cluster.Silos.Single(s => s.Name == name);
            await _cluster.KillSiloAsync(victim);
        }

        await Task.Delay(FaultHold);
        await RestartAsync(victim);
    }

    /// <summary>
    /// Brings a killed silo back under the same name, so its replica finds its log under the shared data root.
    /// <see cref="InProcessTestCluster.RestartSiloAsync"/> keeps the name too but stops the silo gracefully first,
    /// which is not a crash; <see cref="InProcessTestCluster.StartAdditionalSiloAsync()"/> picks a new name.
    /// Starting the same instance number does what a crashed process's supervisor would.
    /// </summary>
    private async Task RestartAsync(InProcessSiloHandle victim)
    {
        var silo = await _cluster.StartSiloAsync(victim.InstanceNumber, _cluster.Options);
        _restarted.Add(silo.Name, silo);
        Assert.Equal(victim.Name, silo.Name);
        output.WriteLine($"nemesis: restarted {silo.Name} ({silo.SiloAddress})");
        await Eventually.WaitAsync(
            async () => (await _cluster.Client.GetGrain<IRaftReplicaGrain>(silo.Name).GetStatus()).Node == silo.Name,
            SettleDeadline,
            () => $"the replica of restarted {silo.Name} answering");
    }

    private async Task<string?> CurrentLeaderAsync()
    {
        var statuses = await Task.WhenAll(_voters.Select(async v =>
        {
            try
            {
                return await _cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetStatus();
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return null;
            }
        }));
        return statuses.Where(s => s?.Role == "Leader").OrderByDescending(s => s!.Term).FirstOrDefault()?.Node;
    }

    private async Task<string> WaitForSingleLeaderAsync(string phase)
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, _voters, SettleDeadline, phase);
        output.WriteLine($"{phase}: leader {leader}");
        return leader;
    }

    private async Task<IReadOnlyList<RaftStateDigest>> WaitForConvergenceAsync()
    {
        IReadOnlyList<RaftStateDigest> last = [];
        await Eventually.WaitAsync(
            async () =>
            {
                last = await Task.WhenAll(_voters.Select(v => _cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetStateDigest()));
                return last.Select(d => (d.AppliedIndex, d.Sha256)).Distinct().Count() == 1;
            },
            SettleDeadline,
            () => "every replica applied to the same index with the same state; saw " +
                  string.Join("; ", last.Select(d => $"{d.Node} applied {d.AppliedIndex} digest {d.Sha256[..12]}")));

        // Exactly one state, and the checks above are on it: a digest equal everywhere at one index.
        Assert.Single(last.Select(d => d.Sha256).Distinct());
        Assert.Single(last.Select(d => d.AppliedIndex).Distinct());
        return last;
    }

    private static string Summarize(IReadOnlyList<HistoryOperation> operations)
    {
        var byKind = operations
            .GroupBy(o => o.Op)
            .OrderBy(g => g.Key)
            .Select(g => $"{g.Key}: {g.Count(o => o.Ok == true)} ok, {g.Count(o => o.Ok is null)} unknown" +
                         (g.Key == HistoryOpKind.Cas ? $" ({g.Count(o => o.Swapped == true)} swapped)" : ""));
        return $"history: {operations.Count} operations; " + string.Join("; ", byKind);
    }
}
