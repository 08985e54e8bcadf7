using System.Globalization;
using System.Text;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// Prints how evenly a <see cref="HashRing"/> spreads keys and how many it moves when a member joins, for a grid of
/// member and virtual-node counts, with hash-mod-N (the scheme of hash-based placement) as the same-run baseline.
/// The figures justify <see cref="HashRing.DefaultVirtualNodes"/>.
/// </summary>
internal static class RingBalanceReport
{
    public const string Command = "ring-balance";

    private const int KeyCount = 100_000;
    private const string DefaultOutput = "BenchmarkDotNet.Artifacts/ring-balance.md";

    // One ring is a single sample of random positions; averaging over several member-name sets keeps the choice of
    // default from hinging on one lucky or unlucky layout. Trial 0 uses the names the unit tests use.
    private const int DefaultTrials = 40;

    private static readonly int[] MemberCounts = [3, 10, 100];
    private static readonly int[] VirtualNodeCounts = [16, 32, 64, 128, 256, 512];

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

        ulong[] hashes = [.. Enumerable.Range(0, KeyCount).Select(i => HashRing.HashKey($"user-{i}"))];
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Keys: {KeyCount:N0} (\"user-{{i}}\"); trials per row: {trials} member-name sets (\"silo-{{i}}\", \"silo-t{{t}}-{{i}}\").");
        report.AppendLine("Peak/mean = most-loaded member's keys over the mean (1.00 is perfect); peak share = largest KeySpaceShares() entry times N (the same without key-sampling noise).");
        report.AppendLine("Moved/optimal = keys that change owner when one member joins, over the 1/(N+1) minimum.");
        report.AppendLine();
        report.AppendLine("| Scheme | Members | VNodes | Peak/mean (avg) | Peak/mean (worst) | Peak share (avg) | Moved/optimal (avg) | Moved to non-new member | Ring memory |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");

        foreach (int members in MemberCounts)
        {
            foreach (int vnodes in VirtualNodeCounts)
            {
                AppendRing(report, hashes, members, vnodes, trials);
            }

            AppendModulo(report, hashes, members);
        }

        ReportFile.Write(output, report.ToString());
        return 0;
    }

    private static void AppendRing(StringBuilder report, ulong[] hashes, int members, int vnodes, int trials)
    {
        double peakSum = 0, peakWorst = 0, shareSum = 0, movedSum = 0;
        long misplaced = 0;
        var owners = new int[hashes.Length];
        for (int trial = 0; trial < trials; trial++)
        {
            var ring = new HashRing(Names(trial, members), vnodes);
            var loads = new int[members];
            for (int k = 0; k < hashes.Length; k++)
            {
                owners[k] = ring.GetOwnerIndexForHash(hashes[k]);
                loads[owners[k]]++;
            }

            double peak = PeakToMean(loads);
            peakSum += peak;
            peakWorst = Math.Max(peakWorst, peak);
            shareSum += ring.KeySpaceShares().Max() * members;

            string joiner = Name(trial, members);
            HashRing grown = ring.WithMember(joiner);
            int moved = 0;
            for (int k = 0; k < hashes.Length; k++)
            {
                string before = ring.Members[owners[k]];
                string after = grown.Members[grown.GetOwnerIndexForHash(hashes[k])];
                if (!ReferenceEquals(before, after) && before != after)
                {
                    moved++;
                    misplaced += after == joiner ? 0 : 1;
                }
            }

            movedSum += moved / (double)hashes.Length * (members + 1);
        }

        long memory = (long)members * vnodes * (sizeof(ulong) + sizeof(int) + sizeof(int));
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| ring | {members} | {vnodes} | {peakSum / trials:F3} | {peakWorst:F3} | {shareSum / trials:F3} | {movedSum / trials:F2} | {misplaced} | {memory / 1024.0:N1} KiB |");
    }

    private static void AppendModulo(StringBuilder report, ulong[] hashes, int members)
    {
        var loads = new int[members];
        int moved = 0;
        foreach (ulong hash in hashes)
        {
            loads[(int)(hash % (ulong)members)]++;
            moved += hash % (ulong)members != hash % (ulong)(members + 1) ? 1 : 0;
        }

        double peak = PeakToMean(loads);
        double movedRatio = moved / (double)hashes.Length * (members + 1);
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| hash mod N | {members} | - | {peak:F3} | {peak:F3} | 1.000 | {movedRatio:F2} | - | - |");
    }

    private static double PeakToMean(int[] loads) => loads.Max() / loads.Average();

    private static IEnumerable<string> Names(int trial, int count) => Enumerable.Range(0, count).Select(i => Name(trial, i));

    private static string Name(int trial, int index) =>
        trial == 0 ? $"silo-{index}" : $"silo-t{trial}-{index}";
}
