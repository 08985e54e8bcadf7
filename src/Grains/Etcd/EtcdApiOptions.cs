using System.Net;
using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Etcd;

/// <summary>Options of the silo's etcd v3 gRPC endpoint (<c>siloBuilder.AddEtcdApi</c>).</summary>
public sealed class EtcdApiOptions
{
    /// <summary>Address the endpoint binds: loopback unless clients run elsewhere. The API has no authentication.</summary>
    public IPAddress Address { get; set; } = IPAddress.Loopback;

    /// <summary>TCP port of the endpoint (plaintext HTTP/2, as etcd's <c>--listen-client-urls http://…</c>).</summary>
    public int Port { get; set; }

    /// <summary>
    /// How long one poll of a watcher waits on the replica when nothing changes. Shorter: idle watchers cost more
    /// calls; longer: a stopping silo waits longer for the polls in flight on its replica (they cannot be cancelled).
    /// </summary>
    public TimeSpan WatchPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often a watcher that asked for progress notifications (<c>progress_notify</c>) gets an empty response when
    /// nothing changed. etcd sends them every 10 minutes; any period keeps its promise that later events are newer.
    /// </summary>
    public TimeSpan WatchProgressInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Concurrent writes in flight per silo (the coordination client's session pool); they travel to the leader
    /// coalesced into batches, so a session costs a few bytes, not a call of its own.
    /// </summary>
    public int Sessions { get; set; } = 128;

    /// <summary>The URL clients reach this silo's endpoint at, as <c>etcdctl member list</c> shows it.</summary>
    public string ClientUrl => $"http://{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}";
}

internal sealed class EtcdApiOptionsValidator : IValidateOptions<EtcdApiOptions>
{
    public ValidateOptionsResult Validate(string? name, EtcdApiOptions options)
    {
        var failures = new List<string>();
        if (options.Port is < 1 or > 65535)
        {
            failures.Add($"silo:etcd_port must be a port between 1 and 65535; it is {options.Port}.");
        }

        if (options.WatchPollInterval < TimeSpan.FromMilliseconds(50) || options.WatchPollInterval > TimeSpan.FromSeconds(30))
        {
            failures.Add($"etcd watch poll interval must be between 50ms and 30s (the replica's longest poll); it is {options.WatchPollInterval}.");
        }

        if (options.WatchProgressInterval < TimeSpan.FromMilliseconds(100) || options.WatchProgressInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"etcd watch progress interval must be between 100ms and 10m; it is {options.WatchProgressInterval}.");
        }

        if (options.Sessions is < 1 or > 1024)
        {
            failures.Add($"etcd sessions must be between 1 and 1024; it is {options.Sessions}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
