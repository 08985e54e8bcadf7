using System.CommandLine;
using Orleans.Patterns.Coordination;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// <c>lock</c>, <c>elect</c> and <c>svc register|list|watch</c>: the recipes on the coordination store (fair locks with
/// fencing tokens, leader election, service discovery), each on a lease session renewed while the command runs.
/// </summary>
internal static class RecipeCommands
{
    /// <summary>How long releasing (unlock, resign, revoke) may take once the command is stopping.</summary>
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);

    public static Command Lock(ConsoleView view)
    {
        var name = new Argument<string>("name") { Description = "The lock's name: the key prefix its contenders queue under." };
        var hold = new Option<double?>("--hold") { Description = "Seconds to hold the lock, then release it (default: until Ctrl+C)." };
        var ttl = TtlOption("Session TTL in seconds: how long the lock outlives this process if it stops renewing.");
        return CoordinationCommands.StoreCommand("lock",
            "Wait for a fair (FIFO) lock, print its fencing token, hold it, release it. Exit 1 if the lease is lost while waiting or holding.",
            [name, hold, ttl],
            parse =>
            {
                RequireName("name", parse.GetValue(name));
                if (parse.GetValue(hold) is { } seconds && (double.IsNaN(seconds) || seconds < 0 || seconds > 86_400))
                {
                    throw new UsageException($"--hold {seconds} must be between 0 and 86400 seconds.");
                }

                CoordinationCommands.Range("--ttl", parse.GetValue(ttl), 1, 86_400);
            },
            async (client, parse, ct) =>
            {
                await using var session = await LeaseSession.StartAsync(client, TimeSpan.FromSeconds(parse.GetValue(ttl)), cancellationToken: ct);
                var mutex = new DistributedLock(session, parse.GetValue(name)!);
                view.Step($"waiting for lock {mutex.Prefix} as {mutex.Key} (lease {session.LeaseIdHex}, TTL {session.Ttl.TotalSeconds:0} s)");
                LockHandle handle;
                try
                {
                    handle = await mutex.LockAsync(ct);
                }
                catch (LeaseLostException e)
                {
                    view.Bad(e.Message);
                    return ClientApp.ExitCheckFailed;
                }

                view.Good($"acquired lock {mutex.Prefix}: fencing token {handle.FencingToken} (key {handle.Key})");
                view.Console.WriteLine($"token {handle.FencingToken}");
                var kept = await HoldAsync(view, parse.GetValue(hold) is { } seconds ? TimeSpan.FromSeconds(seconds) : null, session, ct);
                if (!kept)
                {
                    return ClientApp.ExitCheckFailed;
                }

                using var release = new CancellationTokenSource(ReleaseTimeout);
                await handle.UnlockAsync(release.Token);
                view.Good($"released lock {mutex.Prefix} (token {handle.FencingToken})");
                return ClientApp.ExitOk;
            });
    }

    public static Command Elect(ConsoleView view)
    {
        var name = new Argument<string>("name") { Description = "The election's name: the key prefix its candidates queue under." };
        var value = new Argument<string?>("value") { Description = "What the leader announces (e.g. its address). Not with --observe.", Arity = ArgumentArity.ZeroOrOne };
        var observe = new Option<bool>("--observe") { Description = "Print the leader and every change of leader until Ctrl+C, without campaigning." };
        var ttl = TtlOption("Session TTL in seconds: how long leadership outlives this process if it stops renewing.");
        return CoordinationCommands.StoreCommand("elect",
            "Campaign until elected, print the fencing token and lead until Ctrl+C (then resign); or --observe the leader.",
            [name, value, observe, ttl],
            parse =>
            {
                RequireName("name", parse.GetValue(name));
                var hasValue = parse.GetValue(value) is not null;
                if (parse.GetValue(observe) == hasValue)
                {
                    throw new UsageException(hasValue
                        ? $"elect {parse.GetValue(name)}: give a <value> to campaign with or --observe, not both."
                        : $"elect {parse.GetValue(name)}: give a <value> to campaign with, or --observe.");
                }

                CoordinationCommands.Range("--ttl", parse.GetValue(ttl), 1, 86_400);
            },
            async (client, parse, ct) =>
            {
                var election = new LeaderElection(client, new LeaderElectionOptions { Prefix = parse.GetValue(name)!, SessionTtl = TimeSpan.FromSeconds(parse.GetValue(ttl)) });
                if (parse.GetValue(observe))
                {
                    return await ObserveAsync(view, election, ct);
                }

                view.Step($"campaigning in {election.Prefix} with '{parse.GetValue(value)}'");
                Leadership leadership;
                try
                {
                    leadership = await election.CampaignAsync(parse.GetValue(value)!, ct);
                }
                catch (LeaseLostException e)
                {
                    view.Bad(e.Message);
                    return ClientApp.ExitCheckFailed;
                }

                await using (leadership)
                {
                    view.Good($"elected in {election.Prefix}: fencing token {leadership.FencingToken} (key {leadership.Key}, lease {LeaseIds.Format(leadership.LeaseId)})");
                    view.Console.WriteLine($"token {leadership.FencingToken}");
                    var lost = await WaitLostOrStoppedAsync(leadership.Lost, ct);
                    if (lost)
                    {
                        view.Bad($"leadership lost: the lease {LeaseIds.Format(leadership.LeaseId)} lapsed; another candidate may lead");
                        return ClientApp.ExitCheckFailed;
                    }

                    view.Step("resigning");
                }

                return ClientApp.ExitOk;
            });
    }

    public static Command Svc(ConsoleView view)
    {
        var command = new Command("svc", "Service discovery on the coordination store: instances on leases under /services/<service>/<instance>.");

        var service = ServiceArgument();
        var instance = new Argument<string>("instance") { Description = "The instance id, unique within the service." };
        var address = new Argument<string>("address") { Description = "Where the instance is reached, e.g. 10.0.0.5:8080." };
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeatable)." };
        var meta = new Option<string[]>("--meta") { Description = "Metadata as key=value (repeatable)." };
        var ttl = TtlOption("Seconds the entry outlives this process if it stops renewing.");
        command.Subcommands.Add(CoordinationCommands.StoreCommand("register",
            "Register an instance and keep it registered until Ctrl+C (then deregister). Exit 1 if the lease is lost.",
            [service, instance, address, tags, meta, ttl],
            parse =>
            {
                RequireName("service", parse.GetValue(service));
                RequireName("instance", parse.GetValue(instance));
                if (string.IsNullOrWhiteSpace(parse.GetValue(address)))
                {
                    throw new UsageException("address must not be empty.");
                }

                ParseMetadata(parse.GetValue(meta));
                CoordinationCommands.Range("--ttl", parse.GetValue(ttl), 1, 86_400);
            },
            async (client, parse, ct) =>
            {
                var registry = new ServiceRegistry(client);
                var entry = new ServiceInstance(parse.GetValue(service)!, parse.GetValue(instance)!, parse.GetValue(address)!, parse.GetValue(tags) ?? [], ParseMetadata(parse.GetValue(meta)));
                await using var registration = await registry.RegisterAsync(entry, TimeSpan.FromSeconds(parse.GetValue(ttl)), ct);
                view.Good($"registered {registration.Key} -> {entry.Address} (lease {registration.Session.LeaseIdHex}, TTL {registration.Session.Ttl.TotalSeconds:0} s); Ctrl+C deregisters");
                if (await WaitLostOrStoppedAsync(registration.Session.Lost, ct))
                {
                    view.Bad($"registration lost: {await registration.Session.WhenLost}");
                    return ClientApp.ExitCheckFailed;
                }

                view.Step($"deregistering {registration.Key}");
                return ClientApp.ExitOk;
            }));

        var listService = ServiceArgument();
        command.Subcommands.Add(CoordinationCommands.StoreCommand("list", "The instances registered now.", [listService],
            parse => RequireName("service", parse.GetValue(listService)),
            async (client, parse, ct) =>
            {
                var instances = await new ServiceRegistry(client).ListAsync(parse.GetValue(listService)!, ct);
                WriteInstances(view, parse.GetValue(listService)!, instances);
                return ClientApp.ExitOk;
            }));

        var watchService = ServiceArgument();
        command.Subcommands.Add(CoordinationCommands.StoreCommand("watch", "Print the instance set now and after every change, until Ctrl+C.", [watchService],
            parse => RequireName("service", parse.GetValue(watchService)),
            async (client, parse, ct) =>
            {
                try
                {
                    await foreach (var instances in new ServiceRegistry(client).WatchAsync(parse.GetValue(watchService)!, ct))
                    {
                        view.Step($"{instances.Count} instance(s)");
                        WriteInstances(view, parse.GetValue(watchService)!, instances);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                }

                return ClientApp.ExitOk;
            }));
        return command;
    }

    internal static IReadOnlyDictionary<string, string> ParseMetadata(string[]? pairs)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--meta '{pair}' must be key=value.");
            }

            if (!metadata.TryAdd(pair[..equals], pair[(equals + 1)..]))
            {
                throw new UsageException($"--meta '{pair}': key '{pair[..equals]}' given twice.");
            }
        }

        return metadata;
    }

    private static async Task<int> ObserveAsync(ConsoleView view, LeaderElection election, CancellationToken ct)
    {
        view.Step($"observing {election.Prefix}; Ctrl+C stops");
        var current = await election.LeaderAsync(ct);
        if (current is null)
        {
            view.Note("no leader yet");
        }

        try
        {
            await foreach (var leader in election.ObserveAsync(ct))
            {
                view.Console.WriteLine($"leader {leader.Value} (token {leader.FencingToken}, key {leader.Key}, lease {LeaseIds.Format(leader.LeaseId)})");
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        return ClientApp.ExitOk;
    }

    /// <summary>Holds for <paramref name="hold"/> (null: until Ctrl+C); false when the session was lost meanwhile.</summary>
    private static async Task<bool> HoldAsync(ConsoleView view, TimeSpan? hold, LeaseSession session, CancellationToken ct)
    {
        view.Step(hold is { } h ? $"holding for {h.TotalSeconds:0.#} s" : "holding until Ctrl+C");
        using var timer = hold is { } span ? new CancellationTokenSource(span) : new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        if (await WaitLostOrStoppedAsync(session.Lost, stop.Token))
        {
            view.Bad($"lock lost while held: {await session.WhenLost}; the fencing token is stale now");
            return false;
        }

        return true;
    }

    /// <summary>Waits until <paramref name="lost"/> or <paramref name="stop"/> fires; true when it was <paramref name="lost"/>.</summary>
    private static async Task<bool> WaitLostOrStoppedAsync(CancellationToken lost, CancellationToken stop)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(lost, stop);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return lost.IsCancellationRequested;
    }

    private static void WriteInstances(ConsoleView view, string service, IReadOnlyList<ServiceInstance> instances)
    {
        if (instances.Count == 0)
        {
            view.Note($"no instance of {service}");
            return;
        }

        var table = new Table().AddColumns("instance", "address", "tags", "metadata", "lease");
        foreach (var i in instances)
        {
            table.AddRow(Markup.Escape(i.Id), Markup.Escape(i.Address), Markup.Escape(string.Join(",", i.Tags)),
                Markup.Escape(string.Join(",", i.Metadata.Select(m => $"{m.Key}={m.Value}"))), LeaseIds.Format(i.LeaseId));
        }

        view.Console.Write(table);
    }

    private static void RequireName(string what, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new UsageException($"{what} must not be empty.");
        }

        if (what is "service" or "instance" && value.Contains('/'))
        {
            throw new UsageException($"{what} '{value}' must not contain '/'.");
        }
    }

    private static Argument<string> ServiceArgument() => new("service") { Description = "The service's name." };

    private static Option<long> TtlOption(string description) => new("--ttl") { Description = description, DefaultValueFactory = _ => 10 };
}
