using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Client.Cluster;

namespace Orleans.Patterns.Client.Commands;

/// <summary><c>cluster up</c>: local silos as child processes until Ctrl+C; <c>cluster restart</c>: one of them again.</summary>
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

        return new Command("cluster", "Run a local cluster.") { up, Restart(view) };
    }

    private static Command Restart(ConsoleView view)
    {
        var name = new Argument<string>("silo") { Description = "Silo name from the cluster file, e.g. silo-2." };
        var graceful = new Option<bool>("--graceful") { Description = "Stop the running process with SIGTERM (it leaves membership cleanly) instead of SIGKILL." };
        var clusterFile = ClusterFileOption();
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the restarted silo to be active.", DefaultValueFactory = _ => 60 };
        var command = new Command("restart",
            "Kill a silo's process if it runs (SIGKILL, or SIGTERM with --graceful), start it again with the same name, ports and arguments, and wait until it is active.")
        {
            name, graceful, clusterFile, timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var seconds = parse.GetValue(timeout);
            if (seconds is < 1 or > 600)
            {
                throw new UsageException($"--timeout {seconds} must be between 1 and 600 seconds.");
            }

            var file = await ClusterFile.LoadAsync(parse.GetValue(clusterFile) ?? ClusterFile.CurrentPath, cancellationToken);
            var silo = SiloControl.Resolve(file, parse.GetValue(name)!, "cluster restart");
            await using var connection = await ClusterConnection.ConnectAsync(ClusterTarget.From(file), TimeSpan.FromSeconds(10), cancellationToken);
            var restart = await SiloControl.RestartAsync(file, silo, parse.GetValue(graceful), connection, TimeSpan.FromSeconds(seconds), cancellationToken);
            var stopped = restart.WasRunning
                ? $"{(parse.GetValue(graceful) ? "stopped (SIGTERM)" : "killed (SIGKILL)")} pid {restart.Before.ProcessId}"
                : $"pid {restart.Before.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "?"} was not running";
            view.Good($"{silo.Name}: {stopped}; started pid {restart.After.ProcessId} on silo port {silo.SiloPort}, gateway {silo.GatewayPort}; active after {restart.Elapsed.TotalSeconds:0.0} s (log {silo.LogPath})");
            return ClientApp.ExitOk;
        });
        return command;
    }

    /// <summary>Kill and restart act on processes, so they need the cluster file's pids: no --gateway or --redis.</summary>
    internal static Option<string?> ClusterFileOption() => new("--cluster-file")
    {
        Description = "Cluster file written by `cluster up` (default: the newest one under ./.runs).",
    };
}
