using System.Globalization;
using System.Text;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// Prints, for each shard allocation strategy, how evenly it spreads 4096 shards and how many it moves on a join and
/// on a leave against the optimum (S/(N+1) for a join, the leaver's shards for a leave), with hash-mod-N (Orleans'
/// hash-based placement) as the same-run baseline. Deterministic counts, so one pass gives the exact figures.
/// </summary>
internal static class ShardMovementReport
{
    public const string Command = "shard-movement";

    private const int Shards = 4096;
    private const string DefaultOutput = "BenchmarkDotNet.Artifacts/shard-movement.md";

    // A single join moves whatever share the joiner wins, so one member-name set is one sample; trial 0 uses the
    // names the unit tests use.
    private const int DefaultTrials = 20;

    private static readonly int[] MemberCounts = [10, 100];

    public static int Run(string[] args)
    {
        string output = DefaultOutput;
        int trials = DefaultTrials;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
            }
            else if (args[i] == "--trials" && i + 1 < args.Length && int.TryParse(args[i + 1], out trials) && trials > 0)
            {
                i++;
            }
            else
            {
                Console.Error.WriteLine($"usage: {Command} [--out FILE] [--trials N]");
                return 2;
            }
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Shards: {Shards}; trials per row: {trials} member-name sets (\"silo-{{i}}\", \"silo-t{{t}}-{{i}}\"); bounded = cap 1.10.");
        report.AppendLine("Max/avg = most shards on one member over S/N for a fresh map. Join and leave = shards moved over the optimum (S/(N+1) for a join, the leaver's shards for a leave).");
        report.AppendLine("Second join = the next join after the first, from the map the first produced. Off-joiner moves = shards a join moved between old members (summed over trials).");
        report.AppendLine();
        report.AppendLine("| Scheme | Members | Max/avg (avg) | Max/avg (worst) | Join (avg) | Join (worst) | Second join (avg) | Leave (avg) | Off-joiner moves |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int members in MemberCounts)
        {
            foreach (IShardAllocator allocator in Allocators())
            {
                AppendAllocator(report, allocator, members, trials);
            }

            AppendModulo(report, members);
        }

        ReportFile.Write(output, report.ToString());
        return 0;
    }

    private static IShardAllocator[] Allocators() =>
    [
        new RendezvousShardAllocator(cap: null),
        new RendezvousShardAllocator(new ShardLoadCap()),
        new RingShardAllocator(cap: null),
        new RingShardAllocator(new ShardLoadCap()),
    ];

    private static void AppendAllocator(StringBuilder report, IShardAllocator allocator, int members, int trials)
    {
        double balanceSum = 0, balanceWorst = 0, joinSum = 0, joinWorst = 0, secondSum = 0, leaveSum = 0;
        long offJoiner = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            string[] silos = [.. Enumerable.Range(0, members).Select(i => Name(trial, i))];
            ShardMap map = allocator.Allocate(silos, Shards);
            double balance = map.ShardCounts.Max() / ((double)Shards / members);
            balanceSum += balance;
            balanceWorst = Math.Max(balanceWorst, balance);

            string joiner = Name(trial, members);
            ShardMap joined = allocator.Allocate([.. silos, joiner], Shards, map);
            double join = ShardMovement.Between(map, joined).Ratio;
            joinSum += join;
            joinWorst = Math.Max(joinWorst, join);
            offJoiner += joined.MovesFrom(map).Count(move => move.To != joiner);

            ShardMap second = allocator.Allocate([.. silos, joiner, Name(trial, members + 1)], Shards, joined);
            secondSum += ShardMovement.Between(joined, second).Ratio;
            leaveSum += ShardMovement.Between(map, allocator.Allocate(silos[1..], Shards, map)).Ratio;
        }

        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {allocator} | {members} | {balanceSum / trials:F3} | {balanceWorst:F3} | {joinSum / trials:F3} | {joinWorst:F3} | {secondSum / trials:F3} | {leaveSum / trials:F3} | {offJoiner} |");
    }

    // Shard s on member s mod N: perfectly even, but a join reassigns almost every shard.
    private static void AppendModulo(StringBuilder report, int members)
    {
        int most = (Shards + members - 1) / members;
        int moved = Enumerable.Range(0, Shards).Count(s => s % members != s % (members + 1));
        int leaveMoved = Enumerable.Range(0, Shards).Count(s => s % members != s % (members - 1));
        double leaveOptimum = Enumerable.Range(0, Shards).Count(s => s % members == members - 1);
        double balance = most / ((double)Shards / members);
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| hash mod N | {members} | {balance:F3} | {balance:F3} | {moved / ((double)Shards / (members + 1)):F3} | - | - | {leaveMoved / leaveOptimum:F3} | {moved} |");
    }

    private static string Name(int trial, int index) =>
        trial == 0 ? $"silo-{index}" : $"silo-t{trial}-{index}";
}
