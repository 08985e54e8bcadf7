using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// The etcd endpoint of one silo: its own small web host (Kestrel, plaintext HTTP/2 only, the gRPC services), so it
/// runs the same in a silo hosted by a web application and in a test silo that is not one. It starts when the silo is
/// active (a request needs the grains) and stops first when the silo shuts down, ending open watch and keep-alive
/// streams instead of letting them hold the shutdown up.
/// </summary>
internal sealed partial class EtcdApiServer(
    EtcdMember member, IOptions<EtcdApiOptions> options, ISiloMetadataCache metadata, ILoggerFactory loggerFactory, ILogger<EtcdApiServer> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private WebApplication? _app;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EtcdApiServer), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(settings.Address, settings.Port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.Interceptors.Add<EtcdErrorInterceptor>());
        builder.Services.AddSingleton(member);
        builder.Services.AddSingleton(metadata);

        var app = builder.Build();
        app.MapGrpcService<KvService>();
        app.MapGrpcService<WatchService>();
        app.MapGrpcService<LeaseService>();
        app.MapGrpcService<ClusterService>();
        app.MapGrpcService<MaintenanceService>();
        app.MapGrpcService<LockService>();
        app.MapGrpcService<ElectionService>();
        await app.StartAsync(cancellationToken);
        _app = app;
        LogListening(logger, member.Name, settings.ClientUrl);
        try
        {
            await member.LocalStatusAsync(cancellationToken); // the first headers carry a term
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // The replica is still starting; the term comes with a later header.
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        member.Stop();
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Silo} serves the etcd v3 API at {Url}")]
    private static partial void LogListening(ILogger logger, string silo, string url);

    /// <summary>The endpoint lives and dies with the silo, not with the process's console signals.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
