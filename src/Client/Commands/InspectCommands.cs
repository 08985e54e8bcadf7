using System.CommandLine;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Client.Workload.Resilience;
using Orleans.Patterns.Ring;
using Orleans.Patterns.Sharding;
using Orleans.Patterns.Users;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary><c>where</c> and <c>ring</c>: where users live and why.</summary>
internal static class InspectCommands
{
    public static Command Where(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var user = new Argument<string>("user") { Description = "User id." };
        var placement = new Option<string>("--placement") { Description = "ring, hash, random or sharded.", DefaultValueFactory = _ => "ring" };
        placement.AcceptOnlyFromAmong("ring", "hash", "random", "sharded");
        var vnodes = VirtualNodesOption();
        var command = new Command("where", "Show which silo hosts a user and the ring position that chose it.") { user, placement, vnodes };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var userId = parse.GetValue(user)!;
            if (string.IsNullOrWhiteSpace(userId))
            {
                throw new UsageException("user must not be empty.");
            }

            var userPlacement = Enum.Parse<UserPlacement>(parse.GetValue(placement)!, ignoreCase: true);
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var ring = new ClientRing(await cluster.GetActiveSilosAsync(), parse.GetValue(vnodes));
            var location = await cluster.Client.GetUser(userId, userPlacement).GetLocation();
            var at = ring.Ring.Locate(userId);
            var predicted = ring.OwnerOf(userId);

            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("user", Markup.Escape(userId));
            grid.AddRow("hosted by", Markup.Escape($"{location.SiloName} ({location.Silo.Endpoint}), active since {location.ActivatedAt:HH:mm:ss}"));
            grid.AddRow("grain type", Markup.Escape(location.GrainType));
            grid.AddRow("key hash", $"0x{at.KeyHash:x16}");
            grid.AddRow("ring choice", Markup.Escape(
                $"{ring.NameOf(predicted)}: first virtual node clockwise is #{at.VirtualNode} of {at.Owner} at 0x{at.VirtualNodePosition:x16}"));
            if (userPlacement == UserPlacement.Sharded)
            {
                return await ShowShardAsync(view, cluster, grid, userId, location, cancellationToken);
            }

            view.Console.Write(grid);
            if (userPlacement != UserPlacement.Ring)
            {
                view.Note($"this user is placed by {userPlacement.ToString().ToLowerInvariant()} placement; the ring line shows where the ring would put it");
            }
            else if (location.Silo.Equals(predicted))
            {
                view.Good("the user lives where the ring puts it");
            }
            else
            {
                view.Bad("the user lives elsewhere: it was activated when membership differed and stays until it deactivates");
            }

            return ClientApp.ExitOk;
        });
        return command;
    }

    /// <summary>For a sharded user: its shard, which half of a split shard, the owner in the newest map, and whether it lives there.</summary>
    private static async Task<int> ShowShardAsync(
        ConsoleView view, ClusterConnection cluster, Grid grid, string userId, GrainLocation location, CancellationToken cancellationToken)
    {
        var maps = ShardMapCache.FromCluster(cluster.Client);
        await maps.RefreshAsync(cancellationToken);
        if (maps.Map is not { } map)
        {
            view.Console.Write(grid);
            view.Bad("no silo answered with a shard map (is sharding on?)");
            return ClientApp.ExitCheckFailed;
        }

        var hash = ShardMap.HashUserId(userId);
        var shard = map.ShardOf(userId);
        var half = map.IsSplit(shard) ? (ShardMap.IsInChildHalf(hash) ? $", split: child half, on {map.ChildOwnerOfShard(shard)}" : ", split: owner's half") : "";
        grid.AddRow("shard", Markup.Escape($"{shard} of {map.ShardCount}{half}"));
        grid.AddRow("map", Markup.Escape($"epoch {map.Epoch}: owner {map.OwnerOf(userId)}"));
        view.Console.Write(grid);
        if (location.SiloName == map.OwnerOf(userId))
        {
            view.Good($"the user lives on its shard's owner in epoch {map.Epoch}");
            return ClientApp.ExitOk;
        }

        view.Bad($"the user lives on {location.SiloName}, not its owner {map.OwnerOf(userId)}: a hand-off is under way, or the map changed since");
        return ClientApp.ExitCheckFailed;
    }

    public static Command Ring(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var sample = new Option<int>("--sample") { Description = "Sample keys (user-0 … user-N-1) to count per silo.", DefaultValueFactory = _ => 100_000 };
        var vnodes = VirtualNodesOption();
        var command = new Command("ring", "Show each silo's share of the key space and of a sample of keys.") { sample, vnodes };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sampleSize = parse.GetValue(sample);
            if (sampleSize is < 1 or > 10_000_000)
            {
                throw new UsageException($"--sample {sampleSize} must be between 1 and 10000000.");
            }

            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var ring = new ClientRing(await cluster.GetActiveSilosAsync(), parse.GetValue(vnodes));
            var shares = ring.Ring.KeySpaceShares();
            var counts = new int[ring.Ring.Count];
            for (var i = 0; i < sampleSize; i++)
            {
                counts[ring.Ring.GetOwnerIndex($"user-{i}")]++;
            }

            var mean = (double)sampleSize / ring.Ring.Count;
            var table = new Table { Title = new TableTitle($"{ring.Ring.Count} silos × {ring.Ring.VirtualNodesPerMember} virtual nodes") }
                .AddColumns("silo", "ring member", "key space", $"of {sampleSize} keys", "load / mean");
            for (var m = 0; m < ring.Ring.Count; m++)
            {
                table.AddRow(ring.NameOfMember(m), ring.Ring.Members[m], $"{shares[m]:P2}", counts[m].ToString(), $"{counts[m] / mean:0.000}");
            }

            view.Console.Write(table);
            view.Note($"peak-to-mean load {counts.Max() / mean:0.000}; ideal share {1.0 / ring.Ring.Count:P2}");
            return ClientApp.ExitOk;
        });
        return command;
    }

    internal static Option<int> VirtualNodesOption() => new("--virtual-nodes")
    {
        Description = "Virtual nodes per silo, as configured on the silos.",
        DefaultValueFactory = _ => HashRing.DefaultVirtualNodes,
    };
}
