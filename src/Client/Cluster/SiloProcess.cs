using System.Diagnostics;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>
/// One local silo: its ports and, once started, how it was started (process id, the exact command, its log), so
/// another process can crash it by pid (`chaos kill`) or start it again the same way (`cluster restart`).
/// </summary>
internal sealed record SiloEndpoints(string Name, int SiloPort, int GatewayPort, int HttpPort)
{
    /// <summary>Process id of the silo's current incarnation; replaced by every restart.</summary>
    public int? ProcessId { get; init; }

    /// <summary>The program and its arguments, e.g. <c>dotnet Orleans.Patterns.Silo.dll --name silo-2 …</c>.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>The silo's log; a restarted incarnation appends to it.</summary>
    public string? LogPath { get; init; }

    public string DashboardUrl => $"http://127.0.0.1:{HttpPort}/dashboard/";

    /// <summary>Port of the silo's etcd v3 gRPC endpoint; 0 when it has none (cluster files written before it existed).</summary>
    public int EtcdPort { get; init; }

    /// <summary>What <c>etcdctl --endpoints</c> takes for this silo.</summary>
    public string EtcdEndpoint => EtcdPort == 0 ? "-" : $"127.0.0.1:{EtcdPort}";

    public string RingMemberId => $"127.0.0.1:{SiloPort}";
}

/// <summary>One silo running as a child process, its output written to a log file.</summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan GracefulStopTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();

    private SiloProcess(SiloEndpoints endpoints, Process process, StreamWriter log, string logPath)
    {
        Endpoints = endpoints;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public SiloEndpoints Endpoints { get; private set; }

    public string LogPath { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public static SiloProcess Start(string siloAssembly, SiloEndpoints endpoints, IReadOnlyList<string> arguments, string logPath)
    {
        // Each silo gets its own session (setsid), so a Ctrl+C in the console reaches only the client, which
        // then stops the silos in order: secondaries first, the primary (membership table) last.
        var detach = OperatingSystem.IsLinux() && File.Exists("/usr/bin/setsid");
        var start = new ProcessStartInfo(detach ? "/usr/bin/setsid" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(logPath)!,
        };
        if (detach)
        {
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(siloAssembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        SiloProcesses.SetEnvironment(start);

        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var silo = new SiloProcess(endpoints with { LogPath = logPath, Command = ["dotnet", siloAssembly, .. arguments] }, process, log, logPath);
        process.OutputDataReceived += (_, e) => silo.WriteLog(e.Data);
        process.ErrorDataReceived += (_, e) => silo.WriteLog(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {endpoints.Name}: dotnet {siloAssembly}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        silo.Endpoints = silo.Endpoints with { ProcessId = process.Id };
        return silo;
    }

    /// <summary>Asks the silo to shut down gracefully (SIGTERM), so it leaves the cluster cleanly; kills it after a timeout.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_process.HasExited)
        {
            return;
        }

        if (OperatingSystem.IsWindows() || !SiloProcesses.Signal(_process.Id, SiloProcesses.SigTerm))
        {
            _process.Kill(entireProcessTree: true);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(GracefulStopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>Kills the silo at once, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>The last lines of the silo's log, for error messages.</summary>
    public string Tail(int lines)
    {
        lock (_logLock)
        {
            _log.Flush();
        }

        using var reader = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var text = new StreamReader(reader);
        var all = text.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', all.TakeLast(lines));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        lock (_logLock)
        {
            _log.Dispose();
        }

        _process.Dispose();
    }

    private void WriteLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The process printed after we closed its log; nothing is lost that anyone can read.
            }
        }
    }
}
