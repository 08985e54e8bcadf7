using Microsoft.AspNetCore.Builder;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Silo.Hosting;

namespace Orleans.Patterns.Tests.Hosting;

/// <summary>
/// A silo built by <see cref="SiloHost.BuildAsync"/> exactly as the silo process builds it, but started inside
/// the test process, so a test can stop it and look at its HTTP endpoint without child processes.
/// </summary>
internal sealed class InProcessSilo : IAsyncDisposable
{
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private bool _stopped;

    private InProcessSilo(string name, int siloPort, int gatewayPort, int httpPort, WebApplication app)
    {
        Name = name;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        _app = app;
    }

    public string Name { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public int HttpPort { get; }

    public string RingMemberId => $"127.0.0.1:{SiloPort}";

    public Uri HttpBase => new($"http://127.0.0.1:{HttpPort}/");

    public IServiceProvider Services => _app.Services;

    /// <summary>Builds and starts a silo using Redis clustering; extra arguments go last, so they win.</summary>
    public static async Task<InProcessSilo> StartRedisAsync(
        string name, string redis, string clusterId, string storageDirectory, TimeSpan deadline, params string[] extra)
    {
        var ports = FreePorts.Take(3);
        string[] args =
        [
            "--name", name,
            "--silo-port", ports[0].ToString(),
            "--gateway-port", ports[1].ToString(),
            "--http-port", ports[2].ToString(),
            "--clustering", "redis",
            "--redis", redis,
            "--cluster:cluster_id", clusterId,
            "--storage", storageDirectory,
            .. extra,
        ];
        using var timeout = new CancellationTokenSource(deadline);
        var app = await SiloHost.BuildAsync(args, timeout.Token);
        try
        {
            await app.StartAsync(timeout.Token);
        }
        catch (Exception e)
        {
            await app.DisposeAsync();
            if (e is OperationCanceledException)
            {
                throw new TimeoutException($"Start phase: silo {name} did not start within {deadline}.", e);
            }

            throw;
        }

        return new InProcessSilo(name, ports[0], ports[1], ports[2], app);
    }

    /// <summary>Stops the silo gracefully: it leaves the membership table before it goes.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        using var timeout = new CancellationTokenSource(StopDeadline);
        await _app.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
