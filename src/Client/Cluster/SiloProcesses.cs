using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>
/// Silo processes known only by the pid in the cluster file: whether one still runs, signals, and starting one
/// detached from the process that starts it. `cluster up` owns its first silos; these let any later process crash
/// or replace them.
/// </summary>
internal static partial class SiloProcesses
{
    public const int SigTerm = 15;
    public const int SigKill = 9;
    public const int SigCont = 18; // Linux numbering, as the silos run here
    public const int SigStop = 19;

    private static readonly TimeSpan GracefulStopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The runtime setting that starts a process's thread pool with this many active workers (hex, as the runtime reads it).</summary>
    public const string MinWorkerThreadsVariable = "DOTNET_ThreadPool_ForceMinWorkerThreads";

    /// <summary>
    /// The environment every silo runs with: its console logger never colours a file, and its thread pool starts with
    /// one active worker (<see cref="MinWorkerThreadsVariable"/>, unless the caller's environment sets it). The local
    /// silos share the machine's cores, each lightly loaded: with the default (one active worker per core), a worker
    /// that queues work while it runs wakes a sleeping one to take it, and that wake-up costs more than the work.
    /// With one, the running worker takes what it queued; the pool still adds workers when they raise throughput or
    /// the queue starves. Measured with `bench kv` at 16 clients, three alternated pairs: 0.73–0.82× the context
    /// switches and 0.74–1.02× the CPU per put, 0.77–0.90× the CPU per read (tests/Benchmarks/results/kv-vs-etcd.md).
    /// </summary>
    public static void SetEnvironment(ProcessStartInfo start)
    {
        start.Environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "false";
        start.Environment["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled";
        if (!start.Environment.TryGetValue(MinWorkerThreadsVariable, out var set) || string.IsNullOrEmpty(set))
        {
            start.Environment[MinWorkerThreadsVariable] = "1";
        }
    }

    /// <summary>
    /// Whether <paramref name="pid"/> is the silo named <paramref name="name"/>, not merely some process: a pid in a
    /// file outlives its process and the kernel reuses it, and signalling a stranger is worse than doing nothing.
    /// On Linux the command line must name the silo assembly and <c>--name {name}</c>; a zombie has none and counts
    /// as gone.
    /// </summary>
    public static bool IsRunning(int pid, string name)
    {
        if (pid <= 0)
        {
            return false;
        }

        if (OperatingSystem.IsLinux())
        {
            string[] argv;
            try
            {
                argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }

            var nameAt = Array.IndexOf(argv, "--name");
            return argv.Any(a => a.EndsWith("Orleans.Patterns.Silo.dll", StringComparison.Ordinal))
                && nameAt >= 0 && nameAt + 1 < argv.Length && argv[nameAt + 1] == name;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Sends a signal; false when the process is gone (or on Windows, which has none).</summary>
    public static bool Signal(int pid, int signal) => !OperatingSystem.IsWindows() && SendSignal(pid, signal) == 0;

    /// <summary>Crashes the silo at once (SIGKILL): no shutdown hooks, no goodbye to the cluster.</summary>
    public static void Kill(int pid)
    {
        if (!Signal(pid, SigKill))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // Already gone: the outcome the caller wanted.
            }
        }
    }

    /// <summary>SIGTERM, so the silo leaves membership cleanly; SIGKILL if it has not exited within 30 s.</summary>
    public static async Task StopAsync(int pid, string name, CancellationToken cancellationToken)
    {
        if (!Signal(pid, SigTerm))
        {
            Kill(pid);
        }

        // A silo hung by `chaos hang` holds the SIGTERM pending until it runs again.
        Signal(pid, SigCont);

        if (!await WaitForExitAsync(pid, name, GracefulStopTimeout, cancellationToken))
        {
            Kill(pid);
            await WaitForExitAsync(pid, name, TimeSpan.FromSeconds(5), cancellationToken);
        }
    }

    /// <summary>Polls until the silo's process is gone; false on timeout. Works for processes that are not our children.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (IsRunning(pid, name))
        {
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Starts the silo's recorded command in its own session (setsid) with output appended to its log by the shell,
    /// not piped through us: the silo must outlive the short-lived command that starts it. The shell execs, and so
    /// does setsid when its caller leads no process group, so the pid returned is the silo's own.
    /// </summary>
    public static int StartDetached(SiloEndpoints silo)
    {
        if (silo.Command is not { Count: > 0 } command || silo.LogPath is not { Length: > 0 } log)
        {
            throw new UsageException($"The cluster file does not say how {silo.Name} was started; restart the cluster with this version's `cluster up`.");
        }

        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/setsid") || !File.Exists("/bin/sh"))
        {
            throw new UsageException("Starting a detached silo needs Linux with /usr/bin/setsid and /bin/sh.");
        }

        var start = new ProcessStartInfo("/usr/bin/setsid")
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(log)!,
        };
        // "$0" is the log path, "$@" the silo's command: no quoting of paths or arguments by hand.
        foreach (var argument in (string[])["/bin/sh", "-c", "exec \"$@\" >>\"$0\" 2>&1 </dev/null", log, .. command])
        {
            start.ArgumentList.Add(argument);
        }

        SetEnvironment(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {silo.Name}: {string.Join(' ', command)}");
        return process.Id;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
