using System.CommandLine;
using System.Globalization;
using System.Text;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Coordination;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// <c>kv put|get|del|watch|txn</c> and <c>lease grant|keepalive|revoke|ttl|list</c>: the coordination store (etcd v3
/// semantics on the Raft log) through <see cref="CoordinationClient"/>. Replicas are named by silo, so the cluster's
/// active silo names are the replica names.
/// </summary>
internal static class CoordinationCommands
{
    public static Command Kv(ConsoleView view)
    {
        var command = new Command("kv", "The coordination store: etcd v3 semantics (revisions, ranges, txn, watch, leases) on the Raft log.");
        command.Subcommands.Add(Put(view));
        command.Subcommands.Add(Get(view));
        command.Subcommands.Add(Del(view));
        command.Subcommands.Add(Watch(view));
        command.Subcommands.Add(Txn(view));
        return command;
    }

    public static Command Lease(ConsoleView view)
    {
        var command = new Command("lease", "Leases of the coordination store: keys attached to one vanish when it expires or is revoked.");
        var ttl = new Argument<long>("ttl") { Description = "Seconds (the store raises less than its minimum, 2 s)." };
        command.Subcommands.Add(StoreCommand("grant", "Grant a lease; prints its id (hex).", [ttl],
            parse => Range("ttl", parse.GetValue(ttl), 1, 9_000_000_000),
            async (client, parse, ct) =>
            {
                var granted = await client.LeaseGrantAsync(parse.GetValue(ttl), cancellationToken: ct);
                view.Good($"lease {LeaseIds.Format(granted.ID)} granted with TTL {granted.TTL}s");
                return ClientApp.ExitOk;
            }));

        var keepId = LeaseArgument();
        var once = new Option<bool>("--once") { Description = "Renew once and exit, instead of every TTL/3 until Ctrl+C." };
        command.Subcommands.Add(StoreCommand("keepalive", "Renew a lease every TTL/3 until Ctrl+C (exit 1 once it is gone).", [keepId, once],
            parse => LeaseIds.Parse("id", parse.GetValue(keepId)),
            async (client, parse, ct) =>
            {
                var id = LeaseIds.Parse("id", parse.GetValue(keepId));
                try
                {
                    while (true)
                    {
                        var answer = await client.LeaseKeepAliveAsync(id, ct);
                        if (answer.TTL <= 0)
                        {
                            view.Bad($"lease {LeaseIds.Format(id)} expired or was revoked");
                            return ClientApp.ExitCheckFailed;
                        }

                        view.Good($"lease {LeaseIds.Format(id)} kept alive with TTL {answer.TTL}s");
                        if (parse.GetValue(once))
                        {
                            return ClientApp.ExitOk;
                        }

                        await Task.Delay(TimeSpan.FromSeconds(Math.Max(answer.TTL, 1)) / 3, ct);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return ClientApp.ExitOk;
                }
            }));

        var revokeId = LeaseArgument();
        command.Subcommands.Add(StoreCommand("revoke", "Revoke a lease, deleting its keys.", [revokeId],
            parse => LeaseIds.Parse("id", parse.GetValue(revokeId)),
            async (client, parse, ct) =>
            {
                var id = LeaseIds.Parse("id", parse.GetValue(revokeId));
                var revoked = await client.LeaseRevokeAsync(id, ct);
                view.Good($"lease {LeaseIds.Format(id)} revoked at revision {revoked.Revision}");
                return ClientApp.ExitOk;
            }));

        var ttlId = LeaseArgument();
        var keys = new Option<bool>("--keys") { Description = "Also list the keys attached to the lease." };
        command.Subcommands.Add(StoreCommand("ttl", "A lease's granted and remaining TTL (exit 1 when it does not exist).", [ttlId, keys],
            parse => LeaseIds.Parse("id", parse.GetValue(ttlId)),
            async (client, parse, ct) =>
            {
                var id = LeaseIds.Parse("id", parse.GetValue(ttlId));
                var answer = await client.LeaseTimeToLiveAsync(id, parse.GetValue(keys), ct);
                if (answer.TTL < 0)
                {
                    view.Bad($"lease {LeaseIds.Format(id)} not found (expired, revoked or never granted)");
                    return ClientApp.ExitCheckFailed;
                }

                var attached = parse.GetValue(keys) ? $", keys: [{string.Join(", ", answer.Keys.Select(Text))}]" : "";
                view.Good($"lease {LeaseIds.Format(id)}: granted TTL {answer.GrantedTTL}s, remaining {answer.TTL}s{attached}");
                return ClientApp.ExitOk;
            }));

        command.Subcommands.Add(StoreCommand("list", "Every live lease.", [], _ => { },
            async (client, _, ct) =>
            {
                var leases = await client.LeasesAsync(ct);
                foreach (var id in leases.Leases)
                {
                    view.Console.WriteLine(LeaseIds.Format(id));
                }

                view.Note($"{leases.Leases.Count} lease(s) at revision {leases.Revision}");
                return ClientApp.ExitOk;
            }));
        return command;
    }

    private static Command Put(ConsoleView view)
    {
        var key = KeyArgument();
        var value = new Argument<string>("value") { Description = "The value (a string)." };
        var lease = new Option<string?>("--lease") { Description = "Attach the key to this lease (hex id, as `lease grant` prints it)." };
        var prevKv = new Option<bool>("--prev-kv") { Description = "Print the key's previous version." };
        return StoreCommand("put", "Write a value; prints the revision.", [key, value, lease, prevKv],
            parse => ValidatePut(parse.GetValue(key), parse.GetValue(lease)),
            async (client, parse, ct) =>
            {
                var k = parse.GetValue(key)!;
                var leaseId = parse.GetValue(lease) is { } text ? LeaseIds.Parse("--lease", text) : 0;
                var put = await client.PutAsync(new PutRequest(Bytes(k), Bytes(parse.GetValue(value)!)) { Lease = leaseId, PrevKv = parse.GetValue(prevKv) }, ct);
                view.Good($"put {k} at revision {put.Revision}" + (leaseId != 0 ? $" (lease {LeaseIds.Format(leaseId)})" : ""));
                if (parse.GetValue(prevKv))
                {
                    view.Note(put.PrevKv is { } prev ? $"previous: '{Text(prev.Value)}' (mod revision {prev.ModRevision}, version {prev.Version})" : "previous: (absent)");
                }

                return ClientApp.ExitOk;
            });
    }

    private static Command Get(ConsoleView view)
    {
        var key = KeyArgument();
        var prefix = PrefixOption("Read every key starting with <key>.");
        var rev = new Option<long>("--rev") { Description = "Read at this revision (0: the current one)." };
        var limit = new Option<long>("--limit") { Description = "At most this many keys (0: no limit)." };
        var keysOnly = new Option<bool>("--keys-only") { Description = "Leave the values out." };
        return StoreCommand("get", "Read a key or a prefix (linearizable): key, value, create/mod revision, version, lease.", [key, prefix, rev, limit, keysOnly],
            parse =>
            {
                RequireKey(parse.GetValue(key));
                Range("--rev", parse.GetValue(rev), 0, long.MaxValue);
                Range("--limit", parse.GetValue(limit), 0, long.MaxValue);
            },
            async (client, parse, ct) =>
            {
                var k = Bytes(parse.GetValue(key)!);
                var response = await client.RangeAsync(
                    new RangeRequest(k)
                    {
                        RangeEnd = parse.GetValue(prefix) ? ByteKeys.PrefixEnd(k) : [],
                        Revision = parse.GetValue(rev),
                        Limit = parse.GetValue(limit),
                        KeysOnly = parse.GetValue(keysOnly),
                    },
                    ct);
                WriteKeys(view, response.Kvs, parse.GetValue(keysOnly));
                view.Note($"{response.Kvs.Count} of {response.Count} key(s) at revision {response.Revision}" + (response.More ? " (more: raise --limit)" : ""));
                return ClientApp.ExitOk;
            });
    }

    private static Command Del(ConsoleView view)
    {
        var key = KeyArgument();
        var prefix = PrefixOption("Delete every key starting with <key>.");
        return StoreCommand("del", "Delete a key or a prefix; prints how many keys went.", [key, prefix],
            parse => RequireKey(parse.GetValue(key)),
            async (client, parse, ct) =>
            {
                var k = Bytes(parse.GetValue(key)!);
                var deleted = await client.DeleteRangeAsync(new DeleteRangeRequest(k) { RangeEnd = parse.GetValue(prefix) ? ByteKeys.PrefixEnd(k) : [] }, ct);
                view.Good($"deleted {deleted.Deleted} key(s) at revision {deleted.Revision}");
                return ClientApp.ExitOk;
            });
    }

    private static Command Watch(ConsoleView view)
    {
        var key = KeyArgument();
        var prefix = PrefixOption("Watch every key starting with <key>.");
        var rev = new Option<long>("--rev") { Description = "Start at this revision, replaying history from it (0: only new changes)." };
        return StoreCommand("watch", "Print every change to a key or prefix, in order, until Ctrl+C.", [key, prefix, rev],
            parse =>
            {
                RequireKey(parse.GetValue(key));
                Range("--rev", parse.GetValue(rev), 0, long.MaxValue);
            },
            async (client, parse, ct) =>
            {
                var k = Bytes(parse.GetValue(key)!);
                var request = new WatchRequest(k) { RangeEnd = parse.GetValue(prefix) ? ByteKeys.PrefixEnd(k) : [], StartRevision = parse.GetValue(rev) };
                view.Step($"watching {parse.GetValue(key)}{(parse.GetValue(prefix) ? "*" : "")}; Ctrl+C stops");
                try
                {
                    await foreach (var response in client.WatchAsync(request, cancellationToken: ct))
                    {
                        foreach (var e in response.Events)
                        {
                            view.Console.WriteLine(e.Type == EventType.Put
                                ? $"PUT {Text(e.Kv.Key)} = {Text(e.Kv.Value)} (revision {e.Kv.ModRevision}, created {e.Kv.CreateRevision}, version {e.Kv.Version})"
                                : $"DELETE {Text(e.Kv.Key)} (revision {e.Kv.ModRevision})");
                        }
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                }

                return ClientApp.ExitOk;
            });
    }

    private static Command Txn(ConsoleView view)
    {
        var ifs = new Option<string[]>("--if") { Description = "A compare (repeatable; all must hold): " + TxnSyntax.Help.Split(';')[0] + "." };
        var thens = new Option<string[]>("--then") { Description = "An op run when every compare holds (repeatable): put KEY VALUE | get KEY [--prefix] | del KEY [--prefix]." };
        var elses = new Option<string[]>("--else") { Description = "An op run otherwise (repeatable), same forms as --then." };
        var command = StoreCommand("txn",
            "Atomic compare-then-write. Example: kv txn --if 'value(color) = blue' --then 'put color green' --else 'get color'. " +
            "Keys and values with spaces go in double quotes. Exit code 1 when the --else branch ran.",
            [ifs, thens, elses],
            parse => ParseTxn(parse.GetValue(ifs), parse.GetValue(thens), parse.GetValue(elses)),
            async (client, parse, ct) =>
            {
                var response = await client.TxnAsync(ParseTxn(parse.GetValue(ifs), parse.GetValue(thens), parse.GetValue(elses)), ct);
                if (response.Succeeded)
                {
                    view.Good($"SUCCESS: every compare held; --then ran at revision {response.Revision}");
                }
                else
                {
                    view.Bad($"FAILURE: a compare did not hold; --else ran at revision {response.Revision}");
                }

                foreach (var op in response.Responses)
                {
                    switch (op)
                    {
                        case { ResponsePut: { } put }:
                            view.Note($"put at revision {put.Revision}");
                            break;
                        case { ResponseDeleteRange: { } del }:
                            view.Note($"deleted {del.Deleted} key(s)");
                            break;
                        case { ResponseRange: { } range }:
                            WriteKeys(view, range.Kvs, keysOnly: false);
                            break;
                    }
                }

                return response.Succeeded ? ClientApp.ExitOk : ClientApp.ExitCheckFailed;
            });
        return command;
    }

    internal static TxnRequest ParseTxn(string[]? ifs, string[]? thens, string[]? elses)
    {
        var compares = (ifs ?? []).Select(c => TxnSyntax.ParseCompare("--if", c)).ToList();
        var success = (thens ?? []).Select(o => TxnSyntax.ParseOp("--then", o)).ToList();
        var failure = (elses ?? []).Select(o => TxnSyntax.ParseOp("--else", o)).ToList();
        if (success.Count == 0 && failure.Count == 0)
        {
            throw new UsageException("kv txn needs at least one --then or --else operation.");
        }

        return new TxnRequest(compares, success, failure);
    }

    /// <summary>
    /// A command on the coordination store: checks its arguments (before connecting, so usage errors never wait for a
    /// cluster), connects, makes a client with a fresh id and maps the store's refusals to one line.
    /// </summary>
    internal static Command StoreCommand(string name, string description, Symbol[] symbols, Action<ParseResult> validate,
        Func<CoordinationClient, ParseResult, CancellationToken, Task<int>> run)
    {
        var connection = new ConnectionOptions();
        var command = new Command(name, description).WithSymbols(symbols);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            validate(parse);
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var replicas = await RaftCommands.ActiveReplicasAsync(cluster);
            // A fresh client id per invocation: the store deduplicates writes by (client id, sequence).
            var client = new CoordinationClient(cluster.Client, () => replicas, RaftCommands.NewClientId("cli"));
            try
            {
                return await run(client, parse, cancellationToken);
            }
            catch (TimeoutException e)
            {
                throw new ClusterUnavailableException(ClusterConnection.FirstLine(e.Message), e);
            }
            catch (CoordinationException e)
            {
                throw new UsageException($"the store refused the request: {e.Message}");
            }
        });
        return command;
    }

    internal static void WriteKeys(ConsoleView view, IReadOnlyList<KeyValue> kvs, bool keysOnly)
    {
        if (kvs.Count == 0)
        {
            return;
        }

        var table = new Table().AddColumns("key", "value", "create", "mod", "version", "lease");
        foreach (var kv in kvs)
        {
            table.AddRow(
                Markup.Escape(Text(kv.Key)), keysOnly ? "" : Markup.Escape(Text(kv.Value)), Num(kv.CreateRevision), Num(kv.ModRevision), Num(kv.Version),
                kv.Lease == 0 ? "-" : LeaseIds.Format(kv.Lease));
        }

        view.Console.Write(table);
    }

    internal static Argument<string> KeyArgument() => new("key") { Description = "The key." };

    internal static string RequireKey(string? key) =>
        string.IsNullOrEmpty(key) ? throw new UsageException("key must not be empty.") : key;

    internal static void Range(string what, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            throw new UsageException(max == long.MaxValue ? $"{what} {value} must be >= {min}." : $"{what} {value} must be between {min} and {max}.");
        }
    }

    internal static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    internal static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static void ValidatePut(string? key, string? lease)
    {
        RequireKey(key);
        if (lease is not null)
        {
            LeaseIds.Parse("--lease", lease);
        }
    }

    private static Argument<string> LeaseArgument() => new("id") { Description = "The lease id in hex, as `lease grant` prints it." };

    private static Option<bool> PrefixOption(string description) => new("--prefix") { Description = description };

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);
}
