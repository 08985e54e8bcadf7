using System.CommandLine;
using Orleans.Patterns.Client.Cluster;

namespace Orleans.Patterns.Client.Commands;

/// <summary>Options every command that talks to a running cluster shares.</summary>
internal sealed class ConnectionOptions
{
    private readonly Option<string?> _clusterFile = new("--cluster-file")
    {
        Description = "Cluster file written by `cluster up` (default: the newest one under ./.runs).",
    };

    private readonly Option<int[]> _gateways = new("--gateway")
    {
        Description = "Gateway port of a silo on 127.0.0.1 (repeatable), instead of the cluster file.",
    };

    private readonly Option<string?> _redis = new("--redis")
    {
        Description = "Redis connection string of a cluster using Redis clustering, instead of the cluster file.",
    };

    private readonly Option<string> _clusterId = new("--cluster-id")
    {
        Description = "Cluster id, with --gateway or --redis.",
        DefaultValueFactory = _ => "orleans-patterns",
    };

    private readonly Option<int> _timeout = new("--connect-timeout")
    {
        Description = "Seconds to wait for the cluster before giving up.",
        DefaultValueFactory = _ => 5,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_clusterFile);
        command.Options.Add(_gateways);
        command.Options.Add(_redis);
        command.Options.Add(_clusterId);
        command.Options.Add(_timeout);
    }

    public async Task<ClusterConnection> ConnectAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var timeout = parse.GetValue(_timeout);
        if (timeout is < 1 or > 600)
        {
            throw new UsageException($"--connect-timeout {timeout} must be between 1 and 600 seconds.");
        }

        var target = await ResolveAsync(parse, cancellationToken);
        return await ClusterConnection.ConnectAsync(target, TimeSpan.FromSeconds(timeout), cancellationToken);
    }

    private async Task<ClusterTarget> ResolveAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var gateways = parse.GetValue(_gateways) ?? [];
        var redis = parse.GetValue(_redis);
        var clusterId = parse.GetValue(_clusterId)!;
        if (gateways.FirstOrDefault(p => p is < 1 or > 65535) is var bad and not 0)
        {
            throw new UsageException($"--gateway {bad} is not a port between 1 and 65535.");
        }

        if (gateways.Length > 0 || !string.IsNullOrWhiteSpace(redis))
        {
            return new ClusterTarget(gateways, redis, clusterId, "orleans-patterns");
        }

        var file = await ClusterFile.LoadAsync(parse.GetValue(_clusterFile) ?? ClusterFile.CurrentPath, cancellationToken);
        return ClusterTarget.From(file);
    }
}

/// <summary>Builds commands whose arguments and options are assembled as one list of symbols.</summary>
internal static class CommandSymbols
{
    public static Command WithSymbols(this Command command, IEnumerable<Symbol> symbols)
    {
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
                default:
                    throw new ArgumentException($"{symbol.Name} is neither an argument nor an option.", nameof(symbols));
            }
        }

        return command;
    }
}
