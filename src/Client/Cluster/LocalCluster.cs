using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>What a local cluster runs: silo count, run directory, optional Redis and ring size, and extra settings for every silo (<c>--key value</c> pairs).</summary>
internal sealed record LocalClusterOptions(int SiloCount, string RunDirectory, string? Redis = null, int? VirtualNodes = null, IReadOnlyList<string>? SiloSettings = null);

/// <summary>
/// Several silos on this machine as child processes, with free loopback ports and a log file each. With
/// localhost clustering silo-1 is the primary: it holds the membership table, so it is started first and
/// must outlive the others.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly List<SiloProcess> _silos;

    private readonly LocalClusterOptions _options;
    private readonly string _siloAssembly;
    private readonly string[] _initialVoters;

    private LocalCluster(ClusterFile file, List<SiloProcess> silos, LocalClusterOptions options, string siloAssembly)
    {
        File = file;
        _silos = silos;
        _options = options;
        _siloAssembly = siloAssembly;
        _initialVoters = [.. file.Silos.Select(s => s.Name)];
    }

    public ClusterFile File { get; private set; }

    public IReadOnlyList<SiloProcess> Silos => _silos;

    public ClusterTarget Target => ClusterTarget.From(File);

    public SiloProcess Primary => _silos[0];

    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, Action<string> narrate, CancellationToken cancellationToken)
    {
        if (options.SiloCount is < 1 or > 16)
        {
            throw new UsageException($"--silos must be between 1 and 16; it is {options.SiloCount}.");
        }

        var siloAssembly = LocateSilo();
        var ports = FreePorts.Take(options.SiloCount * 4);
        var endpoints = Enumerable.Range(0, options.SiloCount)
            .Select(i => new SiloEndpoints($"silo-{i + 1}", ports[i * 4], ports[(i * 4) + 1], ports[(i * 4) + 2]) { EtcdPort = ports[(i * 4) + 3] })
            .ToList();
        var file = new ClusterFile(options.RunDirectory, $"local-{Environment.ProcessId}", "orleans-patterns", options.Redis, endpoints);
        var silos = new List<SiloProcess>();
        var cluster = new LocalCluster(file, silos, options, siloAssembly);
        try
        {
            // The primary first: secondaries register in the membership table it hosts.
            silos.Add(Launch(siloAssembly, file, endpoints[0], options, cluster._initialVoters));
            narrate($"started {endpoints[0].Name} (pid {silos[0].ProcessId}), waiting for its gateway on 127.0.0.1:{endpoints[0].GatewayPort}");
            await WaitForPortAsync(silos[0], endpoints[0].GatewayPort, cancellationToken);
            foreach (var silo in endpoints.Skip(1))
            {
                silos.Add(Launch(siloAssembly, file, silo, options, cluster._initialVoters));
                narrate($"started {silo.Name} (pid {silos[^1].ProcessId})");
            }

            // With pids and commands, so `chaos kill` and `cluster restart` in other processes can act on them.
            cluster.File = file with { Silos = [.. silos.Select(s => s.Endpoints)] };
            await cluster.File.SaveAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connects a client and waits until every silo has joined; a silo that dies meanwhile is reported with its log.</summary>
    public async Task<ClusterConnection> ConnectAndWaitAsync(CancellationToken cancellationToken)
    {
        using var died = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watchdog = WatchForExitAsync(died.Token);
        try
        {
            var connect = ConnectAndWaitCoreAsync(died.Token);
            var first = await Task.WhenAny(connect, watchdog);
            if (first == watchdog)
            {
                await watchdog; // throws, naming the silo that exited and its log
            }

            return await connect;
        }
        finally
        {
            await died.CancelAsync();
        }
    }

    /// <summary>
    /// Waits until every running silo's placement ring (its <c>/api/ring</c> view) holds exactly the running
    /// silos. Membership says a silo is active before every other silo has its grain manifest, and until then a
    /// director leaves it off its ring: a workload started in that window places some users off the final ring.
    /// </summary>
    public async Task WaitForPlacementViewsAsync(CancellationToken cancellationToken)
    {
        var running = _silos.Where(s => !s.HasExited).ToList();
        var expected = running.Select(s => s.Endpoints.RingMemberId).Order(StringComparer.Ordinal).ToList();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        var lastSeen = "";
        while (DateTime.UtcNow < deadline)
        {
            var agreed = 0;
            foreach (var silo in running)
            {
                try
                {
                    var view = await http.GetFromJsonAsync<SiloRingView>($"http://127.0.0.1:{silo.Endpoints.HttpPort}/api/ring", cancellationToken);
                    var members = view?.Members.Select(m => m.Endpoint).Order(StringComparer.Ordinal).ToList() ?? [];
                    if (members.SequenceEqual(expected))
                    {
                        agreed++;
                    }
                    else
                    {
                        lastSeen = $"{silo.Endpoints.Name} places on [{string.Join(", ", members)}]";
                    }
                }
                catch (HttpRequestException e)
                {
                    lastSeen = $"{silo.Endpoints.Name}: {e.Message}";
                }
            }

            if (agreed == running.Count)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        throw new ClusterUnavailableException(
            $"Silos did not agree on the placement ring [{string.Join(", ", expected)}] within {StartTimeout.TotalSeconds:0} s; last: {lastSeen}");
    }

    /// <summary>
    /// Starts one more silo (<c>silo-{N+1}</c>) on free ports and waits for its gateway. It joins the Raft group as a
    /// learner: it gets the original voter list, so it never counts itself a voter before the leader adds it.
    /// </summary>
    public async Task<SiloProcess> AddSiloAsync(CancellationToken cancellationToken)
    {
        if (_silos.Count >= 16)
        {
            throw new UsageException("A local cluster has at most 16 silos.");
        }

        var ports = FreePorts.Take(4);
        var endpoints = new SiloEndpoints($"silo-{_silos.Count + 1}", ports[0], ports[1], ports[2]) { EtcdPort = ports[3] };
        var silo = Launch(_siloAssembly, File, endpoints, _options, _initialVoters);
        _silos.Add(silo);
        File = File with { Silos = [.. _silos.Select(s => s.Endpoints)] };
        await File.UpdateAsync(cancellationToken);
        await WaitForPortAsync(silo, endpoints.GatewayPort, cancellationToken);
        return silo;
    }

    public SiloProcess GetSilo(string name) =>
        _silos.FirstOrDefault(s => s.Endpoints.Name == name)
        ?? throw new UsageException($"No silo named '{name}'; this cluster has {string.Join(", ", _silos.Select(s => s.Endpoints.Name))}.");

    public async ValueTask DisposeAsync()
    {
        // `cluster restart` in another process replaces a silo with a process that is not our child; the run's
        // cluster file names the current incarnation of each silo, so it is stopped too, in the same order.
        var current = await ReadRunFileAsync();
        // Secondaries first, the primary (membership table) last, so the others can leave cleanly.
        foreach (var silo in Enumerable.Reverse(_silos))
        {
            await silo.DisposeAsync();
            if (current?.Silos.FirstOrDefault(s => s.Name == silo.Endpoints.Name) is { ProcessId: { } pid } replaced
                && pid != silo.Endpoints.ProcessId && SiloProcesses.IsRunning(pid, replaced.Name))
            {
                await SiloProcesses.StopAsync(pid, replaced.Name, CancellationToken.None);
            }
        }

        File.DeleteCurrentIfOurs();
    }

    private async Task<ClusterFile?> ReadRunFileAsync()
    {
        try
        {
            return System.IO.File.Exists(File.RunPath) ? await ClusterFile.LoadAsync(File.RunPath, CancellationToken.None) : null;
        }
        catch (Exception e) when (e is UsageException or IOException)
        {
            // Unreadable: only our own children can be stopped, as before restarts existed.
            return null;
        }
    }

    private async Task<ClusterConnection> ConnectAndWaitCoreAsync(CancellationToken cancellationToken)
    {
        var connection = await ClusterConnection.ConnectAsync(Target, StartTimeout, cancellationToken);
        try
        {
            await connection.WaitForActiveSilosAsync(_silos.Count, StartTimeout, cancellationToken);
            await WaitForPlacementViewsAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task WatchForExitAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_silos.FirstOrDefault(s => s.HasExited) is { } dead)
            {
                throw SiloDied(dead);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static ClusterUnavailableException SiloDied(SiloProcess silo) =>
        new($"{silo.Endpoints.Name} exited with code {silo.ExitCode} while starting; log {silo.LogPath}:\n{silo.Tail(8)}");

    private static async Task WaitForPortAsync(SiloProcess silo, int port, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (silo.HasExited)
            {
                throw SiloDied(silo);
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }

        throw new ClusterUnavailableException($"{silo.Endpoints.Name} did not open its gateway port {port} within {StartTimeout.TotalSeconds:0} s; log {silo.LogPath}");
    }

    private static SiloProcess Launch(string siloAssembly, ClusterFile file, SiloEndpoints silo, LocalClusterOptions options, IReadOnlyList<string> initialVoters)
    {
        List<string> args =
        [
            "--name", silo.Name,
            "--silo-port", silo.SiloPort.ToString(),
            "--gateway-port", silo.GatewayPort.ToString(),
            "--http-port", silo.HttpPort.ToString(),
            "--primary-port", file.Silos[0].SiloPort.ToString(),
            "--storage", Path.Combine(file.RunDirectory, "grain-state"),
            // Every replica gets the same voter list: the cluster's first silos form one Raft group from the start,
            // and silos added later join it as learners.
            "--raft:initial_voters", string.Join(',', initialVoters),
            "--raft:data_directory", Path.Combine(file.RunDirectory, "raft-data"),
            "--cluster:cluster_id", file.ClusterId,
            "--cluster:service_id", file.ServiceId,
        ];
        if (silo.EtcdPort != 0)
        {
            args.AddRange(["--etcd-port", silo.EtcdPort.ToString()]);
        }

        if (options.Redis is { Length: > 0 } redis)
        {
            args.AddRange(["--clustering", "redis", "--redis", redis]);
        }

        if (options.VirtualNodes is { } vnodes)
        {
            args.AddRange(["--placement:virtual_nodes", vnodes.ToString()]);
        }

        args.AddRange(options.SiloSettings ?? []);

        return SiloProcess.Start(siloAssembly, silo, args, Path.Combine(file.RunDirectory, $"{silo.Name}.log"));
    }

    /// <summary>
    /// The silo host's assembly: ORLEANS_PATTERNS_SILO if set, else the silo project's build output (the client
    /// project builds it first), else a copy beside this assembly.
    /// </summary>
    internal static string LocateSilo()
    {
        const string FileName = "Orleans.Patterns.Silo.dll";
        var candidates = new List<string?>
        {
            Environment.GetEnvironmentVariable("ORLEANS_PATTERNS_SILO"),
            typeof(LocalCluster).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "SiloProjectOutput")?.Value,
            Path.Combine(AppContext.BaseDirectory, FileName),
        };
        return candidates.Where(c => !string.IsNullOrWhiteSpace(c)).Select(c => Path.GetFullPath(c!)).FirstOrDefault(System.IO.File.Exists)
            ?? throw new ClusterUnavailableException(
                $"Cannot find {FileName}. Build the solution (dotnet build) or set ORLEANS_PATTERNS_SILO to its path.");
    }
}

/// <summary>The part of a silo's <c>/api/ring</c> JSON the client reads.</summary>
internal sealed record SiloRingView(string Silo, int ActiveSilos, IReadOnlyList<SiloRingViewMember> Members);

internal sealed record SiloRingViewMember(string Endpoint, string Name, double KeySpaceShare);
