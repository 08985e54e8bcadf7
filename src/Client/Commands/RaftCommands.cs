using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// <c>raft status|transfer</c> and <c>raft kv put|get|del|cas</c>: the per-silo Raft replicas and the simple replicated
/// key/value store on them (the etcd-style store is <c>kv</c>, in <see cref="CoordinationCommands"/>). Replicas are named by silo, so the cluster's active silo names are the replica names.
/// </summary>
internal static class RaftCommands
{
    /// <summary>The word <c>--expected</c> takes for "the key must not exist"; a missing value cannot be typed otherwise.</summary>
    internal const string AbsentWord = "absent";

    /// <summary>What a status call may take before its replica is reported unreachable.</summary>
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long <c>raft transfer</c> watches for the target to take over.</summary>
    private static readonly TimeSpan TransferDeadline = TimeSpan.FromSeconds(10);

    public static Command Raft(ConsoleView view)
    {
        var command = new Command("raft", "Inspect the per-silo Raft replicas and move leadership.");
        command.Subcommands.Add(Status(view));
        command.Subcommands.Add(Latency(view));
        command.Subcommands.Add(Transport(view));
        command.Subcommands.Add(Transfer(view));
        command.Subcommands.Add(Kv(view));
        return command;
    }

    /// <summary><c>raft kv</c>: the simple string store of <see cref="RaftKvClient"/>, beside the shard map in the Raft log.</summary>
    public static Command Kv(ConsoleView view)
    {
        var command = new Command("kv", "Read and write the simple replicated key/value store (linearizable; through the Raft leader).");
        var key = KeyArgument();
        var value = ValueArgument();
        command.Subcommands.Add(KvCommand("put", "Write a value; prints the previous value and the log index.", [key, value],
            async (kv, parse, ct) =>
            {
                var k = RequireKey(parse.GetValue(key));
                var result = await kv.PutAsync(k, parse.GetValue(value)!, ct);
                view.Good($"put {k} = {parse.GetValue(value)} at log index {result.Index} (previous: {Show(result.Previous)})");
                return ClientApp.ExitOk;
            }));

        var getKey = KeyArgument();
        command.Subcommands.Add(KvCommand("get", "Read a value (linearizable: the leader's lease or a ReadIndex round); prints the log index it reflects.", [getKey],
            async (kv, parse, ct) =>
            {
                var k = RequireKey(parse.GetValue(getKey));
                var result = await kv.GetAsync(k, ct);
                view.Good($"{k} = {Show(result.Value)} (read at log index {result.Index})");
                return ClientApp.ExitOk;
            }));

        var delKey = KeyArgument();
        command.Subcommands.Add(KvCommand("del", "Delete a key; prints the previous value and the log index.", [delKey],
            async (kv, parse, ct) =>
            {
                var k = RequireKey(parse.GetValue(delKey));
                var result = await kv.DeleteAsync(k, ct);
                view.Good($"del {k} at log index {result.Index} (previous: {Show(result.Previous)})");
                return ClientApp.ExitOk;
            }));

        var casKey = KeyArgument();
        var casValue = ValueArgument();
        var expected = new Option<string>("--expected")
        {
            Description = "The value the key must hold for the swap, or 'absent' for a key that must not exist.",
            Required = true,
        };
        command.Subcommands.Add(KvCommand("cas",
            "Compare and swap: write the value only if the key holds --expected. Exit code 1 when the comparison fails.",
            [casKey, casValue, expected],
            async (kv, parse, ct) =>
            {
                var k = RequireKey(parse.GetValue(casKey));
                var expect = parse.GetValue(expected)!;
                var result = await kv.CompareAndSwapAsync(k, expect == AbsentWord ? null : expect, parse.GetValue(casValue)!, ct);
                if (result.Applied)
                {
                    view.Good($"cas {k}: swapped {Show(result.Previous)} for {parse.GetValue(casValue)} at log index {result.Index}");
                    return ClientApp.ExitOk;
                }

                view.Bad($"cas {k}: not swapped, it holds {Show(result.Previous)} (log index {result.Index})");
                return ClientApp.ExitCheckFailed;
            }));
        return command;
    }

    private static Command Status(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var command = new Command("status", "Each replica's role, term, leader, indexes, voters and bytes on disk.");
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var active = await ActiveReplicasAsync(cluster);
            var replies = await QueryAsync(cluster.Client, active);
            // Voters whose silo is not active cannot be asked, but they still count towards the quorum: show them.
            var inactive = replies.Values.OfType<RaftReplicaStatus>().SelectMany(s => s.Voters.Concat(s.Learners))
                .Where(v => !replies.ContainsKey(v)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

            // Compact columns: the table must stay readable in an 80-column terminal.
            var table = new Table().AddColumns("replica", "role", "term", "leader", "commit/applied", "log", "snap", "disk");
            foreach (var (name, reply) in replies)
            {
                if (reply is RaftReplicaStatus s)
                {
                    table.AddRow(Markup.Escape(name), s.Role == "Leader" ? "[bold green]Leader[/]" : Markup.Escape(s.Role), Num(s.Term), Markup.Escape(s.Leader ?? "-"),
                        $"{Num(s.CommitIndex)}/{Num(s.AppliedIndex)}", $"{Num(s.FirstIndex)}-{Num(s.LastIndex)}", Num(s.SnapshotIndex), Bytes(s.DiskBytes));
                }
                else
                {
                    table.AddRow(Markup.Escape(name), "[red]unreachable[/]", "", Markup.Escape(reply as string ?? ""), "", "", "", "");
                }
            }

            foreach (var name in inactive)
            {
                table.AddRow(Markup.Escape(name), "[red]unreachable[/]", "", "silo not active", "", "", "", "");
            }

            view.Console.Write(table);
            if (replies.Values.OfType<RaftReplicaStatus>().FirstOrDefault() is { } any)
            {
                view.Note($"voters: {string.Join(", ", any.Voters)}" + (any.Learners.Count > 0 ? $"; learners: {string.Join(", ", any.Learners)}" : "") + $" (as {any.Node} sees them)");
            }

            var leaders = replies.Values.OfType<RaftReplicaStatus>().Where(s => s.Role == "Leader").ToList();
            if (leaders.Count == 0)
            {
                view.Note("no leader right now (replicas start on first use; an election takes a few hundred ms)");
            }

            foreach (var leader in leaders)
            {
                view.Note(leader.LeaseMillisecondsLeft switch
                {
                    > 0 and var left => $"reads: from {leader.Node}'s lease, {left:0} ms left (a round a majority answers renews it)",
                    not null => $"reads: {leader.Node}'s lease lapsed (no majority answered lately); each read waits for a round",
                    null => $"reads: a heartbeat round each on {leader.Node} (raft:lease_reads false, or a transfer this term)",
                });
            }

            return ClientApp.ExitOk;
        });
        return command;
    }

    private static Command Latency(ConsoleView view) => EveryReplicaCommand(
        view,
        "latency",
        "How long each replica's recent writes spent in each stage of the write path (the last 1,024 of each), in ms.",
        replica => replica.GetWritePathLatency(),
        replies =>
        {
            view.Console.Write(LatencyTable(replies));
            if (GatheringNote(replies) is { } gathering)
            {
                view.Note(gathering);
            }

            view.Note(replies.Values.OfType<RaftWritePathLatency>().Any(l => l.Stages.Count > 0)
                ? "both ways over the wire: replication - append; the log writer's wake-up and the way back to the replica: persist - log sync"
                : "no timings yet: write first (raft kv put, kv put, bench raft, bench kv); a replica keeps them from its start");
        });

    /// <summary>
    /// A command that asks every active silo's replica one question (<paramref name="ask"/>, within the status
    /// timeout) and shows the answers, by replica name; a replica that does not answer is there with the reason.
    /// </summary>
    private static Command EveryReplicaCommand<T>(
        ConsoleView view, string name, string description, Func<IRaftReplicaGrain, Task<T>> ask, Action<IReadOnlyDictionary<string, object>> show)
        where T : class
    {
        var connection = new ConnectionOptions();
        var command = new Command(name, description);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var active = await ActiveReplicasAsync(cluster);
            show(await SiloQueries.AskEachAsync(active, replica => ask(cluster.Client.GetGrain<IRaftReplicaGrain>(replica)), StatusTimeout));
            return ClientApp.ExitOk;
        });
        return command;
    }

    /// <summary>How many fronts' batches the leaders' gathered rounds carried, replica by replica; null when none gathered any.</summary>
    internal static string? GatheringNote(IReadOnlyDictionary<string, object> replies)
    {
        var gathered = replies.Values.OfType<RaftWritePathLatency>().Where(l => l.GatheredRounds > 0).OrderBy(l => l.Node, StringComparer.Ordinal).ToList();
        return gathered.Count == 0
            ? null
            : "gathered rounds (raft:gather_wait): " + string.Join("; ", gathered.Select(l => string.Create(
                CultureInfo.InvariantCulture, $"{l.Node} {l.GatheredRounds:N0} rounds carried {l.GatheredBatches:N0} batches, {(double)l.GatheredBatches / l.GatheredRounds:0.00} per round")));
    }

    /// <summary>One row per replica and stage, leader's stages first in the order a write meets them; unreachable replicas say why.</summary>
    internal static Table LatencyTable(IReadOnlyDictionary<string, object> replies)
    {
        var table = new Table().AddColumns("replica", "stage", "n", "p50", "p90", "p99", "max");
        foreach (var (name, reply) in replies.OrderBy(r => r.Value is RaftWritePathLatency { Role: "Leader" } ? 0 : 1).ThenBy(r => r.Key, StringComparer.Ordinal))
        {
            if (reply is not RaftWritePathLatency latency)
            {
                table.AddRow(Markup.Escape(name), "[red]unreachable[/]", Markup.Escape(reply as string ?? ""), "", "", "", "");
                continue;
            }

            var replica = latency.Role == "Leader" ? $"[bold green]{Markup.Escape(name)}[/]" : Markup.Escape(name);
            foreach (var stage in latency.Stages)
            {
                table.AddRow(
                    replica,
                    Markup.Escape(stage.Peer is null ? stage.Stage : $"{stage.Stage} → {stage.Peer}"),
                    stage.Samples.ToString(CultureInfo.InvariantCulture),
                    Ms(stage.P50), Ms(stage.P90), Ms(stage.P99), Ms(stage.Max));
                replica = "";
            }
        }

        return table;
    }

    private static Command Transport(ConsoleView view) => EveryReplicaCommand(
        view,
        "transport",
        "How the replicas' Raft messages travel: each replica's peer transport connections and the messages on them, beside those sent as Orleans calls.",
        replica => replica.GetPeerTransportStatus(),
        replies =>
        {
            view.Console.Write(TransportTable(replies));
            view.Note("raft:peer_transport tcp sends over the connections, and through Orleans while a peer has none; orleans sends every message as a grain call");
        });

    /// <summary>One row per replica and peer, then the replica's messages sent and received as Orleans calls.</summary>
    internal static Table TransportTable(IReadOnlyDictionary<string, object> replies)
    {
        var table = new Table().AddColumns("replica", "peer", "link", "sent", "received", "dropped unread/chaos");
        foreach (var (name, reply) in replies.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (reply is not RaftPeerTransportStatus status)
            {
                table.AddRow(Markup.Escape(name), "[red]unreachable[/]", Markup.Escape(reply as string ?? ""), "", "", "");
                continue;
            }

            var replica = Markup.Escape(status.Endpoint is null ? $"{name} {status.Transport}" : $"{name} {status.Transport} {status.Endpoint}");
            foreach (var peer in status.Peers)
            {
                table.AddRow(
                    replica, Markup.Escape(peer.Peer), peer.Connected ? "[green]up[/]" : "[yellow]down[/]",
                    Count(peer.Sent), Count(peer.Received), $"{Count(peer.DroppedUnread)}/{Count(peer.DroppedByChaos)}");
                replica = "";
            }

            table.AddRow(replica, "as Orleans calls", "", Count(status.SentThroughOrleans), Count(status.ReceivedThroughOrleans), "");
        }

        return table;
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ms(double milliseconds) => milliseconds.ToString(milliseconds < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    private static Command Transfer(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var to = new Option<string>("--to") { Description = "Silo name of the replica that should lead.", Required = true };
        var command = new Command("transfer", "Ask the leader to hand leadership to another replica once it has caught up.") { to };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(to)!.Trim();
            if (target.Length == 0)
            {
                throw new UsageException("--to must name a silo, e.g. --to silo-2.");
            }

            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var active = await ActiveReplicasAsync(cluster);
            if (!active.Contains(target, StringComparer.Ordinal))
            {
                throw new UsageException($"--to {target} is not an active silo; active: {string.Join(", ", active)}.");
            }

            var leader = await FindLeaderAsync(cluster.Client, active, cancellationToken);
            if (leader.Node == target)
            {
                view.Good($"{target} already leads (term {leader.Term})");
                return ClientApp.ExitOk;
            }

            try
            {
                await cluster.Client.GetGrain<IRaftReplicaGrain>(leader.Node).TransferLeadership(target);
            }
            catch (InvalidOperationException e)
            {
                throw new UsageException(ClusterConnection.FirstLine(e.Message));
            }
            catch (NotLeaderException e)
            {
                throw new ClusterUnavailableException($"{leader.Node} stopped leading before the transfer: {e.Message} Try again.");
            }

            view.Step($"asked {leader.Node} (leader, term {leader.Term}) to hand over to {target}");
            var deadline = DateTime.UtcNow + TransferDeadline;
            while (DateTime.UtcNow < deadline)
            {
                var status = await cluster.Client.GetGrain<IRaftReplicaGrain>(target).GetStatus();
                if (status.Role == "Leader")
                {
                    view.Good($"{target} leads in term {status.Term}");
                    return ClientApp.ExitOk;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }

            throw new InvariantViolatedException($"{target} did not take over within {TransferDeadline.TotalSeconds:0} s (run `raft status`).");
        });
        return command;
    }

    /// <summary>A <c>raft kv</c> subcommand: connect, open a session with a fresh client id, run, map "no leader" to exit code 3.</summary>
    private static Command KvCommand(string name, string description, Symbol[] symbols,
        Func<RaftKvClient, ParseResult, CancellationToken, Task<int>> run)
    {
        var connection = new ConnectionOptions();
        var command = new Command(name, description).WithSymbols(symbols);

        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Usage errors first, so they never wait for a cluster.
            foreach (var key in symbols.OfType<Argument<string>>().Where(a => a.Name == "key"))
            {
                RequireKey(parse.GetValue(key));
            }

            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            // A fresh client id per invocation: the store deduplicates by (client id, sequence), and every
            // invocation starts its sequence at 1, so a reused id would get an earlier command's answer back.
            var kv = new RaftKvClient(cluster.Client, await ActiveReplicasAsync(cluster), NewClientId("cli"));
            try
            {
                return await run(kv, parse, cancellationToken);
            }
            catch (TimeoutException e)
            {
                throw new ClusterUnavailableException(ClusterConnection.FirstLine(e.Message), e);
            }
        });
        return command;
    }

    internal static string NewClientId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    internal static async Task<IReadOnlyList<string>> ActiveReplicasAsync(ClusterConnection cluster)
    {
        var names = await cluster.Client.GetActiveSiloNamesAsync();
        return names.Count > 0 ? names : throw new ClusterUnavailableException("The cluster has no active silo.");
    }

    /// <summary>Each replica's status, or a one-line reason it did not answer, in name order.</summary>
    internal static Task<SortedDictionary<string, object>> QueryAsync(IGrainFactory grains, IReadOnlyList<string> replicas) =>
        SiloQueries.AskEachAsync(replicas, name => grains.GetGrain<IRaftReplicaGrain>(name).GetStatus(), StatusTimeout);

    /// <summary>Polls the replicas until one leads; replicas start on first use, so the first poll may start an election.</summary>
    internal static async Task<RaftReplicaStatus> FindLeaderAsync(IGrainFactory grains, IReadOnlyList<string> replicas, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TransferDeadline;
        while (true)
        {
            var replies = await QueryAsync(grains, replicas);
            var leader = replies.Values.OfType<RaftReplicaStatus>().Where(s => s.Role == "Leader").MaxBy(s => s.Term);
            if (leader is not null)
            {
                return leader;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new ClusterUnavailableException(
                    $"No Raft leader among {string.Join(", ", replicas)} within {TransferDeadline.TotalSeconds:0} s (a quorum of voters must be active).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    private static Argument<string> KeyArgument() => new("key") { Description = "The key." };

    private static Argument<string> ValueArgument() => new("value") { Description = "The value (a string)." };

    private static string RequireKey(string? key) =>
        string.IsNullOrWhiteSpace(key) ? throw new UsageException("key must not be empty.") : key;

    private static string Show(string? value) => value is null ? "(absent)" : $"'{value}'";

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bytes(long bytes) => bytes switch
    {
        < 10 * 1024 => $"{bytes} B",
        < 10 * 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes / (1024.0 * 1024):0.0} MiB",
    };
}
