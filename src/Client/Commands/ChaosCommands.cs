using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Chaos;
using Orleans.Patterns.Client.Cluster;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// <c>chaos partition|drop|delay|duplicate|heal|show</c>: fault injection between silos; <c>chaos kill|hang|resume</c>:
/// real process faults. Each command adds or
/// replaces one named rule in the rules in force and applies the result to every active silo under a new version.
/// </summary>
internal static class ChaosCommands
{
    public static Command Create(ConsoleView view)
    {
        var command = new Command("chaos", "Inject faults between silos: partitions, drops, delays, duplicates; heal them.");
        command.Subcommands.Add(Partition(view));
        command.Subcommands.Add(Drop(view));
        command.Subcommands.Add(Delay(view));
        command.Subcommands.Add(Duplicate(view));
        command.Subcommands.Add(Heal(view));
        command.Subcommands.Add(Show(view));
        command.Subcommands.Add(Kill(view));
        command.Subcommands.Add(Signal(view, "hang", SiloProcesses.SigStop,
            "Hang a silo: SIGSTOP its process, which keeps its sockets open but answers nothing (a long GC pause, a stuck host). `chaos resume` ends it.",
            "hung {0} (pid {1}, SIGSTOP); watch `members --matrix` and `health`, then `chaos resume {0}`"));
        command.Subcommands.Add(Signal(view, "resume", SiloProcesses.SigCont,
            "Resume a silo hung by `chaos hang` (SIGCONT).",
            "resumed {0} (pid {1}, SIGCONT); it refutes its death with a higher incarnation"));
        return command;
    }

    private static Command Kill(ConsoleView view)
    {
        var name = new Argument<string>("silo") { Description = "Silo name from the cluster file, e.g. silo-2." };
        var clusterFile = ClusterCommands.ClusterFileOption();
        var command = new Command("kill", "Crash a silo: SIGKILL its process by the pid in the cluster file (no graceful leave). `cluster restart` starts it again.")
        {
            name, clusterFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var file = await Cluster.ClusterFile.LoadAsync(parse.GetValue(clusterFile) ?? Cluster.ClusterFile.CurrentPath, cancellationToken);
            var silo = Cluster.SiloControl.Resolve(file, parse.GetValue(name)!, "chaos kill");
            if (!Cluster.SiloControl.Kill(silo))
            {
                view.Bad($"{silo.Name} is not running (pid {silo.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "unknown"} is not that silo); nothing killed. `cluster restart {silo.Name}` starts it.");
                return ClientApp.ExitCheckFailed;
            }

            view.Good($"killed {silo.Name} (pid {silo.ProcessId}, SIGKILL); membership declares it dead after missed probes, or at once when `cluster restart {silo.Name}` brings it back");
            return ClientApp.ExitOk;
        });
        return command;
    }

    private static Command Signal(ConsoleView view, string verb, int signal, string description, string done)
    {
        var name = new Argument<string>("silo") { Description = "Silo name from the cluster file, e.g. silo-2." };
        var clusterFile = ClusterCommands.ClusterFileOption();
        var command = new Command(verb, description) { name, clusterFile };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var file = await Cluster.ClusterFile.LoadAsync(parse.GetValue(clusterFile) ?? Cluster.ClusterFile.CurrentPath, cancellationToken);
            var silo = Cluster.SiloControl.Resolve(file, parse.GetValue(name)!, $"chaos {verb}");
            if (silo.ProcessId is not { } pid || !SiloProcesses.IsRunning(pid, silo.Name) || !SiloProcesses.Signal(pid, signal))
            {
                view.Bad($"{silo.Name} is not running (pid {silo.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "unknown"} is not that silo); nothing signalled.");
                return ClientApp.ExitCheckFailed;
            }

            view.Good(string.Format(CultureInfo.InvariantCulture, done, silo.Name, pid));
            return ClientApp.ExitOk;
        });
        return command;
    }

    private static Command Partition(ConsoleView view)
    {
        var sides = new Argument<string[]>("sides") { Description = "Silo names, sides separated by '/': silo-1,silo-2 / silo-3", Arity = ArgumentArity.OneOrMore };
        var interfaces = InterfacesOption();
        return RuleCommand(view, "partition", "Cut the cluster into sides that cannot call each other.", [sides, interfaces],
            parse => new PartitionRule("partition", Interfaces(parse, interfaces), ChaosArguments.ParseSides(string.Join(' ', parse.GetValue(sides)!))));
    }

    private static Command Drop(ConsoleView view)
    {
        var rate = RateOption();
        var (from, to) = LinkOptions();
        var interfaces = InterfacesOption();
        return RuleCommand(view, "drop", "Drop a fraction of the calls between silos.", [rate, from, to, interfaces],
            parse => new DropRule("drop", Interfaces(parse, interfaces), Links(parse, from, to), ChaosArguments.ParseRate(parse.GetValue(rate))));
    }

    private static Command Delay(ConsoleView view)
    {
        var delay = new Argument<string>("delay") { Description = "Fixed delay per call, e.g. 50ms or 1.5s." };
        var jitter = new Option<string>("--jitter") { Description = "Largest extra random delay, e.g. 20ms.", DefaultValueFactory = _ => "0ms" };
        var (from, to) = LinkOptions();
        var interfaces = InterfacesOption();
        return RuleCommand(view, "delay", "Delay calls between silos.", [delay, jitter, from, to, interfaces],
            parse => new DelayRule("delay", Interfaces(parse, interfaces), Links(parse, from, to),
                ChaosArguments.ParseDuration("delay", parse.GetValue(delay)!), ChaosArguments.ParseDuration("--jitter", parse.GetValue(jitter)!)));
    }

    private static Command Duplicate(ConsoleView view)
    {
        var rate = RateOption();
        var (from, to) = LinkOptions();
        var interfaces = InterfacesOption();
        return RuleCommand(view, "duplicate", "Deliver a fraction of the calls between silos twice.", [rate, from, to, interfaces],
            parse => new DuplicateRule("duplicate", Interfaces(parse, interfaces), Links(parse, from, to), ChaosArguments.ParseRate(parse.GetValue(rate))));
    }

    private static Command Heal(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var command = new Command("heal", "Remove every chaos rule on every active silo.");
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var healed = await cluster.Client.HealEverywhereAsync();
            view.Good($"healed: rules v{healed.Version} (none) on every active silo");
            return ClientApp.ExitOk;
        });
        return command;
    }

    private static Command Show(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var command = new Command("show", "Show the chaos rules in force on each active silo.");
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var table = new Table().AddColumns("silo", "version", "rules");
            foreach (var (silo, rules) in await cluster.Client.GetRulesEverywhereAsync())
            {
                table.AddRow(Markup.Escape(silo), rules.Version.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(rules.Rules.IsEmpty ? "-" : string.Join("; ", rules.Rules.Select(ChaosArguments.Describe))));
            }

            view.Console.Write(table);
            return ClientApp.ExitOk;
        });
        return command;
    }

    /// <summary>A command that adds (or replaces, by name) one rule and applies the rules everywhere.</summary>
    private static Command RuleCommand(ConsoleView view, string name, string description, Symbol[] symbols, Func<ParseResult, ChaosRule> buildRule)
    {
        var connection = new ConnectionOptions();
        var command = new Command(name, description).WithSymbols(symbols);

        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Build first, so a usage error never needs a cluster.
            var rule = buildRule(parse);
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var current = (await cluster.Client.GetRulesEverywhereAsync()).Values.MaxBy(r => r.Version) ?? ChaosRuleSet.Empty;
            var rules = current.Rules.Where(r => r.Name != rule.Name).Append(rule);
            ChaosRuleSet applied;
            try
            {
                applied = await cluster.Client.SetRulesEverywhereAsync(rules);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }

            view.Good($"rules v{applied.Version} on every active silo: {string.Join("; ", applied.Rules.Select(ChaosArguments.Describe))}");
            return ClientApp.ExitOk;
        });
        return command;
    }

    private static Option<string[]> InterfacesOption() => new("--interface")
    {
        Description = "Only calls to this grain interface, simple or full name (repeatable); default: every application interface.",
    };

    private static Option<double> RateOption() => new("--rate") { Description = "Fraction of calls, 0 to 1.", Required = true };

    private static (Option<string?> From, Option<string?> To) LinkOptions() =>
        (new Option<string?>("--from") { Description = "Calling silos, comma-separated (default: any)." },
         new Option<string?>("--to") { Description = "Called silos, comma-separated (default: any)." });

    private static ImmutableArray<string> Interfaces(ParseResult parse, Option<string[]> option) => [.. parse.GetValue(option) ?? []];

    private static ChaosLinks Links(ParseResult parse, Option<string?> from, Option<string?> to) =>
        new(ChaosArguments.ParseNames(parse.GetValue(from)), ChaosArguments.ParseNames(parse.GetValue(to)));
}

/// <summary>Parsing and printing of chaos command arguments; separate so it is testable without a cluster.</summary>
internal static class ChaosArguments
{
    public static ImmutableArray<ImmutableArray<string>> ParseSides(string text)
    {
        var sides = text.Split('/', StringSplitOptions.TrimEntries).Select(ParseNames).ToImmutableArray();
        if (sides.Length < 2 || sides.Any(s => s.IsEmpty))
        {
            throw new UsageException($"partition '{text}' needs at least two non-empty sides separated by '/', e.g. silo-1,silo-2 / silo-3.");
        }

        return sides;
    }

    public static ImmutableArray<string> ParseNames(string? text) =>
        [.. (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    public static double ParseRate(double rate) =>
        rate is >= 0 and <= 1 ? rate : throw new UsageException($"--rate {rate} must be between 0 and 1.");

    /// <summary>A duration such as <c>50ms</c>, <c>1.5s</c> or <c>0</c>.</summary>
    public static TimeSpan ParseDuration(string name, string text)
    {
        var trimmed = text.Trim();
        var (number, scale) = trimmed.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (trimmed[..^2], 1.0)
            : trimmed.EndsWith('s') ? (trimmed[..^1], 1000.0)
            : (trimmed, 1.0);
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && double.IsFinite(value)
            ? TimeSpan.FromMilliseconds(value * scale)
            : throw new UsageException($"{name} '{text}' is not a duration like 50ms or 1.5s.");
    }

    public static string Describe(ChaosRule rule)
    {
        var scope = rule.Interfaces.IsDefaultOrEmpty ? "" : $" [{string.Join(",", rule.Interfaces)}]";
        return rule switch
        {
            PartitionRule p => $"partition {string.Join(" / ", p.Sides.Select(s => string.Join(",", s)))}{scope}",
            DropRule d => $"drop {d.Probability:0.###}{Links(d.Links)}{scope}",
            DelayRule d => $"delay {d.Fixed.TotalMilliseconds:0.#}ms+{d.Jitter.TotalMilliseconds:0.#}ms{Links(d.Links)}{scope}",
            DuplicateRule d => $"duplicate {d.Probability:0.###}{Links(d.Links)}{scope}",
            _ => rule.Name,
        };
    }

    private static string Links(ChaosLinks links) =>
        links.From.IsDefaultOrEmpty && links.To.IsDefaultOrEmpty
            ? ""
            : $" {(links.From.IsDefaultOrEmpty ? "*" : string.Join(",", links.From))} -> {(links.To.IsDefaultOrEmpty ? "*" : string.Join(",", links.To))}";
}
