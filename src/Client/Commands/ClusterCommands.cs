using System.CommandLine;
using Orleans.Patterns.Client.Cluster;

namespace Orleans.Patterns.Client.Commands;

/// <summary><c>cluster up</c>: local silos as child processes until Ctrl+C.</summary>
internal static class ClusterCommands
{
    public static Command Create(ConsoleView view)
    {
        var silos = new Option<int>("--silos") { Description = "Number of local silos (1-16).", DefaultValueFactory = _ => 3 };
        var redis = new Option<string?>("--redis")
        {
            Description = "Use Redis clustering with this connection string (e.g. 127.0.0.1:6379) instead of localhost clustering.",
        };
        var vnodes = new Option<int?>("--virtual-nodes") { Description = "Virtual nodes per silo on the placement ring (default: the measured default)." };
        var up = new Command("up", "Start local silos with free loopback ports, wait until all have joined, stop them on Ctrl+C.")
        {
            silos, redis, vnodes,
        };
        up.SetAction(async (parse, cancellationToken) =>
        {
            var runDirectory = RunDirectories.Create("cluster");
            view.Heading($"starting {parse.GetValue(silos)} silos");
            await using var cluster = await LocalCluster.StartAsync(
                new LocalClusterOptions(parse.GetValue(silos), runDirectory, parse.GetValue(redis), parse.GetValue(vnodes)),
                view.Step, cancellationToken);
            await using (var connection = await cluster.ConnectAndWaitAsync(cancellationToken))
            {
                var active = await connection.GetActiveSilosAsync();
                view.Good($"{active.Count} silos active: {string.Join(", ", active.Select(s => $"{s.Name} ({s.Address.Endpoint})"))}");
            }

            view.Silos(cluster);
            view.Note("silo-1 is the primary (it holds the membership table under localhost clustering): stop the others, not it.");
            view.Note("in another terminal: dotnet run --project src/Client -- workload | where <user> | ring");
            view.Step("running; press Ctrl+C to stop the cluster");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                view.Step("stopping silos (secondaries first, then the primary)");
            }

            return ClientApp.ExitOk;
        });

        return new Command("cluster", "Run a local cluster.") { up };
    }
}
