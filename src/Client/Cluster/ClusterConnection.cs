using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Polly.Telemetry;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>How to reach a cluster: gateway ports on loopback (localhost clustering) or a Redis membership table.</summary>
internal sealed record ClusterTarget(IReadOnlyList<int> GatewayPorts, string? Redis, string ClusterId, string ServiceId)
{
    public static ClusterTarget From(ClusterFile file) =>
        new([.. file.Silos.Select(s => s.GatewayPort)], file.Redis, file.ClusterId, file.ServiceId);

    public override string ToString() => Redis is { Length: > 0 }
        ? $"Redis {Redis} (cluster '{ClusterId}')"
        : $"gateways {string.Join(", ", GatewayPorts.Select(p => $"127.0.0.1:{p}"))}";
}

/// <summary>An active silo as the cluster's membership reports it.</summary>
internal sealed record ActiveSilo(SiloAddress Address, string Name)
{
    public string RingMemberId => Placement.RingMembership.MemberId(Address);
}

/// <summary>A connected Orleans client; connecting gives up with a clear error instead of hanging.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    public IManagementGrain Management => Client.GetGrain<IManagementGrain>(0);

    public static async Task<ClusterConnection> ConnectAsync(ClusterTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var builder = Host.CreateApplicationBuilder();
        // The console tells the story; Orleans' client logs go nowhere unless something fails, and then we say why.
        builder.Logging.ClearProviders();

        // Polly's metrics of the client's resilience pipelines, enriched with the error type (Microsoft.Extensions.Resilience).
        builder.Services.AddResilienceEnricher();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = target.ClusterId;
                o.ServiceId = target.ServiceId;
            });
            if (target.Redis is { Length: > 0 } redis)
            {
                client.UseRedisClustering(redis);
            }
            else
            {
                client.UseLocalhostClustering([.. target.GatewayPorts], target.ServiceId, target.ClusterId);
            }

            client.UseConnectionRetryFilter(async (_, ct) =>
            {
                if (DateTime.UtcNow >= deadline)
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
                return true;
            });
        });

        var host = builder.Build();
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(timeout + TimeSpan.FromSeconds(2));
        try
        {
            await host.StartAsync(connectTimeout.Token);
            return new ClusterConnection(host);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new ClusterUnavailableException(
                $"Cannot reach the cluster at {target} within {timeout.TotalSeconds:0} s: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// Telemetry for the client's Polly pipelines: the client's logger factory (retries, circuit changes) and the metering
    /// enrichers registered in its services; the metrics are on Polly's meter.
    /// </summary>
    public TelemetryOptions ResilienceTelemetry() =>
        new(_host.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value)
        {
            LoggerFactory = _host.Services.GetRequiredService<ILoggerFactory>(),
        };

    public async Task<IReadOnlyList<ActiveSilo>> GetActiveSilosAsync()
    {
        var hosts = await Management.GetDetailedHosts(onlyActive: true);
        return [.. hosts.Select(h => new ActiveSilo(h.SiloAddress, h.SiloName)).OrderBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>Polls membership until exactly the expected silos are active, or fails naming what it saw.</summary>
    public async Task<IReadOnlyList<ActiveSilo>> WaitForActiveSilosAsync(int expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<ActiveSilo> active = [];
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                active = await GetActiveSilosAsync();
                if (active.Count == expected)
                {
                    return active;
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // Membership is in flux (a silo is joining or leaving); ask again.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        throw new ClusterUnavailableException(
            $"Expected {expected} active silos within {timeout.TotalSeconds:0} s; saw {active.Count}: {string.Join(", ", active.Select(s => s.Name))}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _host.StopAsync(stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or OrleansException)
        {
            // The cluster may already be gone (end of a demo); there is nothing left to close cleanly.
        }

        _host.Dispose();
    }

    internal static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
