using System.Diagnostics;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>What a kill or restart did, for the console and the failover bench.</summary>
internal sealed record SiloRestart(SiloEndpoints Before, SiloEndpoints After, bool WasRunning, TimeSpan Elapsed);

/// <summary>
/// Real process crashes and restarts of the silos named in a cluster file: <c>chaos kill</c>, <c>cluster
/// restart</c> and <c>bench failover</c> share this, so they refuse the same things and record the same pids.
/// </summary>
internal static class SiloControl
{
    /// <summary>
    /// Under localhost clustering the primary holds the membership table in memory: killing it ends the cluster for
    /// good, and a restarted primary would start an empty table the others are not in. Refused before anything else.
    /// </summary>
    public static SiloEndpoints Resolve(ClusterFile file, string name, string command)
    {
        var trimmed = name.Trim();
        if (trimmed.Length == 0)
        {
            throw new UsageException($"{command} needs a silo name, e.g. silo-2.");
        }

        var silo = file.GetSilo(trimmed);
        if (file.LocalhostClustering && silo.Name == file.Primary.Name)
        {
            throw new UsageException(
                $"{command} {silo.Name} refused: under localhost clustering {silo.Name} is the primary and holds the membership table, so the cluster would not survive it; pick another silo, or use Redis clustering (cluster up --redis).");
        }

        return silo;
    }

    /// <summary>SIGKILL by pid, as a crash would; returns false (and kills nothing) when that pid is no longer the silo.</summary>
    public static bool Kill(SiloEndpoints silo)
    {
        if (silo.ProcessId is not { } pid || !SiloProcesses.IsRunning(pid, silo.Name))
        {
            return false;
        }

        SiloProcesses.Kill(pid);
        return true;
    }

    /// <summary>
    /// Ends the silo's current process if it runs (SIGKILL, or SIGTERM when <paramref name="graceful"/>), starts it
    /// again with the same name, ports and arguments, records the new pid, and waits until membership lists the new
    /// incarnation as active. The old one's entry is declared dead by the new one as it joins (same address, newer
    /// generation), so the wait does not include failure detection.
    /// </summary>
    public static async Task<SiloRestart> RestartAsync(
        ClusterFile file, SiloEndpoints silo, bool graceful, ClusterConnection connection, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var before = await ActiveGenerationsAsync(connection, silo.Name);
        var wasRunning = silo.ProcessId is { } oldPid && SiloProcesses.IsRunning(oldPid, silo.Name);
        if (wasRunning)
        {
            if (graceful)
            {
                await SiloProcesses.StopAsync(silo.ProcessId!.Value, silo.Name, cancellationToken);
            }
            else
            {
                SiloProcesses.Kill(silo.ProcessId!.Value);
                // Its ports must be free before the new incarnation binds them.
                await SiloProcesses.WaitForExitAsync(silo.ProcessId!.Value, silo.Name, TimeSpan.FromSeconds(10), cancellationToken);
            }
        }

        var pid = SiloProcesses.StartDetached(silo);
        var after = silo with { ProcessId = pid };
        // Recorded before waiting, so whoever stops the cluster finds the new process even if the wait fails.
        var latest = await ClusterFile.LoadAsync(file.RunPath, cancellationToken);
        await latest.WithSilo(after).UpdateAsync(cancellationToken);

        var deadline = DateTime.UtcNow + timeout;
        var missed = 0;
        while (true)
        {
            // Twice in a row, 100 ms apart: right after the start the process is still passing through setsid and sh
            // into the silo, and one look at /proc/<pid>/cmdline in that window is not an exit.
            missed = SiloProcesses.IsRunning(pid, silo.Name) ? 0 : missed + 1;
            if (missed >= 2)
            {
                throw new ClusterUnavailableException($"{silo.Name} (pid {pid}) exited while starting; log {silo.LogPath}:\n{Tail(silo.LogPath, 8)}");
            }

            try
            {
                var now = await ActiveGenerationsAsync(connection, silo.Name);
                if (now.Except(before).Any())
                {
                    return new SiloRestart(silo, after, wasRunning, clock.Elapsed);
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // Membership is changing under us (the gateway we asked may be the silo just killed); ask again.
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new ClusterUnavailableException(
                    $"{silo.Name} (pid {pid}) did not become active within {timeout.TotalSeconds:0} s; log {silo.LogPath}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    private static async Task<HashSet<int>> ActiveGenerationsAsync(ClusterConnection connection, string name)
    {
        var hosts = await connection.Management.GetDetailedHosts(onlyActive: true);
        return [.. hosts.Where(h => h.SiloName == name && h.Status == SiloStatus.Active).Select(h => h.SiloAddress.Generation)];
    }

    private static string Tail(string? path, int lines)
    {
        if (path is null || !File.Exists(path))
        {
            return "(no log)";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return string.Join('\n', reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
    }
}
