using System.CommandLine;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Commands;
using Spectre.Console;

namespace Orleans.Patterns.Client;

/// <summary>The console's entry point: parses, runs one command, maps failures to one line and an exit code.</summary>
internal static class ClientApp
{
    public const int ExitOk = 0;
    public const int ExitCheckFailed = 1;
    public const int ExitUsage = 2;
    public const int ExitUnavailable = 3;
    public const int ExitInterrupted = 130;

    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, TextWriter error, CancellationToken cancellationToken = default)
    {
        var view = new ConsoleView(console);
        var root = new RootCommand("Orleans.Patterns: distributed-systems patterns on Orleans, run on local silos.")
        {
            ClusterCommands.Create(view),
            WorkloadCommand.Create(view),
            InspectCommands.Where(view),
            InspectCommands.Ring(view),
            DemoCommand.Create(view),
            ChaosCommands.Create(view),
            RaftCommands.Raft(view),
            CoordinationCommands.Kv(view),
            CoordinationCommands.Lease(view),
            RecipeCommands.Lock(view),
            RecipeCommands.Elect(view),
            RecipeCommands.Svc(view),
            GossipCommands.Members(view),
            GossipCommands.Health(view),
            ShardsCommand.Create(view),
            BenchCommands.Create(view),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine lists allowed values on separate lines; scripts and the usage contract expect one line.
            var message = string.Join(' ', parse.Errors[0].Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            await error.WriteLineAsync($"error: {message} (see --help)");
            return ExitUsage;
        }

        try
        {
            return await parse.InvokeAsync(
                new InvocationConfiguration
                {
                    EnableDefaultExceptionHandler = false,
                    // Ctrl+C cancels the command's token; stopping silos cleanly takes a few seconds.
                    ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
                    Output = console.Profile.Out.Writer,
                    Error = error,
                },
                cancellationToken);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return ExitUsage;
        }
        catch (ClusterUnavailableException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return ExitUnavailable;
        }
        catch (InvariantViolatedException e)
        {
            await error.WriteLineAsync($"check failed: {e.Message}");
            return ExitCheckFailed;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("interrupted");
            return ExitInterrupted;
        }
        catch (OrleansException e)
        {
            // A cluster call that failed past the command's own handling (a silo gone mid-command, a rejected message):
            // one line naming it, not a stack trace, and the exit code of an unreachable cluster.
            await error.WriteLineAsync($"error: the cluster failed a call: {e.GetType().Name}: {ClusterConnection.FirstLine(e.Message)}");
            return ExitUnavailable;
        }
    }
}
