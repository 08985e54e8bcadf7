using System.Diagnostics;
using System.Globalization;

namespace Orleans.Patterns.Client.Workload;

/// <summary>
/// What the processes serving a benchmark's endpoints spent during one phase: CPU time and context switches, both per
/// operation. On a machine whose cores every process shares (the local cluster, etcd and the benchmark's own client),
/// ops/s move with whatever else runs, and a second system measured minutes later is not measured under the same
/// load; CPU per operation is the cost itself, and the two systems' ratio is steadier than their ops/s ratio.
/// </summary>
/// <param name="Processes">How many server processes were sampled.</param>
/// <param name="CpuMicrosPerOp">CPU time (user and system) of those processes per operation, µs.</param>
/// <param name="ContextSwitchesPerOp">Their threads' context switches (voluntary and not) per operation; null where the OS does not tell.</param>
internal sealed record ServerUsage(int Processes, double CpuMicrosPerOp, double? ContextSwitchesPerOp);

/// <summary>
/// Finds the local processes listening on a benchmark's endpoints and samples their CPU time and context switches
/// around a phase. Linux only (from <c>/proc</c>): elsewhere, or for endpoints served from another machine, there is
/// nothing to sample and <see cref="Find"/> answers null.
/// </summary>
internal sealed class ServerProcesses
{
    private const string ProcRoot = "/proc";

    private readonly IReadOnlyList<int> _pids;

    private ServerProcesses(IReadOnlyList<int> pids) => _pids = pids;

    /// <summary>The process ids sampled.</summary>
    public IReadOnlyList<int> Pids => _pids;

    /// <summary>The processes on this machine listening on the endpoints' TCP ports, or null when none can be found.</summary>
    public static ServerProcesses? Find(IReadOnlyList<Uri> endpoints)
    {
        if (!OperatingSystem.IsLinux() || !endpoints.All(e => e.IsLoopback))
        {
            return null;
        }

        var ports = endpoints.Select(e => e.Port).ToHashSet();
        var inodes = new HashSet<long>();
        foreach (var table in new[] { "net/tcp", "net/tcp6" })
        {
            var path = Path.Combine(ProcRoot, table);
            if (File.Exists(path))
            {
                inodes.UnionWith(ListeningInodes(File.ReadLines(path), ports));
            }
        }

        var pids = inodes.Count == 0 ? [] : OwnersOf(inodes);
        return pids.Count > 0 ? new ServerProcesses(pids) : null;
    }

    /// <summary>
    /// The socket inodes listening on any of <paramref name="ports"/> in a <c>/proc/net/tcp</c> table (header line
    /// first; each row's local address is <c>HEXIP:HEXPORT</c>, state <c>0A</c> is LISTEN, the tenth column the inode).
    /// </summary>
    internal static IEnumerable<long> ListeningInodes(IEnumerable<string> table, IReadOnlySet<int> ports)
    {
        foreach (var line in table.Skip(1))
        {
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 10 || columns[3] != "0A")
            {
                continue;
            }

            var colon = columns[1].LastIndexOf(':');
            if (colon < 0
                || !int.TryParse(columns[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port)
                || !ports.Contains(port)
                || !long.TryParse(columns[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
                || inode == 0)
            {
                continue;
            }

            yield return inode;
        }
    }

    // Every process with an open descriptor on one of the sockets (a listener forked or shared counts once per process).
    private static List<int> OwnersOf(HashSet<long> inodes)
    {
        var owners = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories(ProcRoot))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(directory, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && SocketInode(target) is { } inode && inodes.Contains(inode))
                    {
                        owners.Add(pid);
                        break;
                    }
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // another user's process, or one that exited while listed: not one of ours to sample
            }
        }

        return owners;
    }

    /// <summary>The inode of a descriptor's link text <c>socket:[12345]</c>, or null for anything else.</summary>
    internal static long? SocketInode(string linkTarget) =>
        linkTarget.StartsWith("socket:[", StringComparison.Ordinal) && linkTarget.EndsWith(']')
        && long.TryParse(linkTarget.AsSpan(8, linkTarget.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
            ? inode
            : null;

    /// <summary>Runs <paramref name="phase"/> and reports what the processes spent on its <paramref name="operations"/>.</summary>
    public async Task<(T Result, ServerUsage Usage)> MeasureAsync<T>(Func<Task<T>> phase, Func<T, long> operations)
    {
        var (cpuBefore, switchesBefore) = Sample();
        var result = await phase();
        var (cpuAfter, switchesAfter) = Sample();
        var ops = Math.Max(1, operations(result));
        var switches = switchesBefore is null || switchesAfter is null ? (double?)null : SwitchesBetween(switchesBefore, switchesAfter) / (double)ops;
        return (result, new ServerUsage(_pids.Count, (cpuAfter - cpuBefore).TotalMicroseconds / ops, switches));
    }

    /// <summary>
    /// The context switches between two samples of per-thread counts: each thread alive at the second counts what it
    /// switched since the first (all of its count if it started since, or if its id was reused). A thread that ended
    /// in between is left out, its count gone with it: a lower bound, and never negative.
    /// </summary>
    internal static long SwitchesBetween(IReadOnlyDictionary<(int Pid, int Tid), long> before, IReadOnlyDictionary<(int Pid, int Tid), long> after)
    {
        long total = 0;
        foreach (var (thread, count) in after)
        {
            total += before.TryGetValue(thread, out var earlier) && earlier <= count ? count - earlier : count;
        }

        return total;
    }

    private (TimeSpan Cpu, Dictionary<(int Pid, int Tid), long>? Switches) Sample()
    {
        var cpu = TimeSpan.Zero;
        var switches = new Dictionary<(int Pid, int Tid), long>();
        var readable = true;
        foreach (var pid in _pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                cpu += process.TotalProcessorTime;
            }
            catch (ArgumentException)
            {
                continue; // exited: what it spent is gone with it
            }

            readable &= AddContextSwitches(pid, switches);
        }

        return (cpu, readable ? switches : null);
    }

    // Each thread's voluntary plus nonvoluntary switches, from /proc/<pid>/task/<tid>/status (a thread that exits
    // between the listing and the read is left out); false when the process's threads cannot be listed.
    private static bool AddContextSwitches(int pid, Dictionary<(int Pid, int Tid), long> switches)
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories(Path.Combine(ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "task"));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return false;
        }

        foreach (var task in tasks)
        {
            if (!int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
            {
                continue;
            }

            try
            {
                long count = 0;
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.Contains("ctxt_switches:", StringComparison.Ordinal)
                        && long.TryParse(line.AsSpan(line.IndexOf(':') + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                    {
                        count += value;
                    }
                }

                switches[(pid, tid)] = count;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // exited since the listing
            }
        }

        return true;
    }
}
