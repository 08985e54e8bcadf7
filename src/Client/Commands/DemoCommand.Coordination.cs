using System.Diagnostics;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Client.Commands;

internal static partial class DemoCommand
{
    private static readonly TimeSpan CoordinationDeadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The coordination service on the Raft log: a configuration flag written through the leader and seen by a watch
    /// that a follower's replica serves; a lock whose holder loses its lease, so the next waiter gets it with a larger
    /// fencing token and the resource refuses the old one; an election handed over by a resignation.
    /// </summary>
    /// <returns>What went wrong, one line each; empty when the act passed.</returns>
    private static async Task<IReadOnlyList<string>> RunCoordinationActAsync(ConsoleView view, ClusterConnection connection, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var replicas = await RaftCommands.ActiveReplicasAsync(connection);
        var client = new CoordinationClient(connection.Client, () => replicas, $"demo-{Guid.NewGuid():N}") { Router = { Deadline = CoordinationDeadline } };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CoordinationDeadline);
        var token = deadline.Token;

        // 1. A flag, and a watch a follower serves.
        var flag = "/config/feature_flag"u8.ToArray();
        var before = await client.RangeAsync(new RangeRequest(flag), token);
        var leader = client.Router.Leader!;
        var follower = replicas.First(r => r != leader);
        var watcher = new CoordinationClient(connection.Client, () => replicas, $"demo-watch-{Guid.NewGuid():N}") { LocalReplica = follower };
        var watching = watcher.WatchOnceAsync(new WatchRequest(flag) { StartRevision = before.Revision + 1 }, TimeSpan.FromSeconds(10), token);
        var clock = Stopwatch.StartNew();
        var put = await client.PutAsync(new PutRequest(flag, "on"u8.ToArray()), token);
        var seen = await watching;
        var ok = seen.Events.Count == 1 && seen.Events[0].Kv.ModRevision == put.Revision;
        Check(view, problems, ok,
            $"put /config/feature_flag = on through leader {leader} at revision {put.Revision}; the watch served by {follower}'s replica saw it {clock.Elapsed.TotalMilliseconds:0} ms after the put began",
            $"the watch on {follower} saw {seen.Events.Count} events for the put at revision {put.Revision}");

        // 2. A lock, its holder's lease lost, and a fenced resource.
        var guard = new FencingTokenGuard();
        await using var first = await LeaseSession.StartAsync(client, TimeSpan.FromSeconds(5), cancellationToken: token);
        await using var second = await LeaseSession.StartAsync(client, TimeSpan.FromSeconds(5), cancellationToken: token);
        var held = await new DistributedLock(first, "/demo/locks/report").LockAsync(token);
        guard.Accept("report", held.FencingToken);
        var waiting = new DistributedLock(second, "/demo/locks/report").LockAsync(token);
        await Task.Delay(200, token);
        var waited = !waiting.IsCompleted;
        await client.LeaseRevokeAsync(first.LeaseId, token); // as if its holder paused past its lease
        var next = await waiting;
        guard.Accept("report", next.FencingToken);
        var staleRefused = !guard.TryAccept("report", held.FencingToken, out var highest);
        Check(view, problems, waited && next.FencingToken > held.FencingToken && staleRefused,
            $"lock: the first holder got fencing token {held.FencingToken}, the second waited; the first's lease ended, the second got token {next.FencingToken}, and the resource refused the old holder's {held.FencingToken} (highest {highest})",
            $"lock: second waited {waited}, tokens {held.FencingToken} then {next.FencingToken}, stale token refused {staleRefused}");
        await next.UnlockAsync(token);

        // 3. An election.
        var election = new LeaderElection(client, new LeaderElectionOptions { Prefix = "/demo/election", SessionTtl = TimeSpan.FromSeconds(5) });
        await using var alpha = await election.CampaignAsync("alpha", token);
        var betaCampaign = election.CampaignAsync("beta", token);
        await Task.Delay(200, token);
        var current = await election.LeaderAsync(token);
        await alpha.ResignAsync(token);
        await using var beta = await betaCampaign;
        var after = await election.LeaderAsync(token);
        Check(view, problems, current?.Value == "alpha" && !betaCampaign.IsFaulted && after?.Value == "beta" && beta.FencingToken > alpha.FencingToken,
            $"election: alpha led (token {alpha.FencingToken}) while beta campaigned; alpha resigned and beta leads (token {beta.FencingToken})",
            $"election: leader {current?.Value ?? "none"} then {after?.Value ?? "none"}, tokens {alpha.FencingToken} and {beta.FencingToken}");
        await beta.ResignAsync(token);
        view.Note("the same store speaks etcd's v3 API on every silo: `cluster up` prints the etcdctl endpoints; `kv`, `lease`, `lock`, `elect`, `svc` drive it from this console");
        return problems;
    }
}
