using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Patterns.Coordination;

/// <summary>One registered instance of a service, stored as JSON under <c>/services/&lt;service&gt;/&lt;instance&gt;</c>.</summary>
public sealed record ServiceInstance(
    string Service,
    string Id,
    string Address,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The lease that keeps the instance registered (filled in when read from the store).</summary>
    public long LeaseId { get; init; }

    /// <summary>The revision the instance last registered or updated at (filled in when read from the store).</summary>
    public long ModRevision { get; init; }
}

/// <summary>
/// Service discovery over the coordination store: each instance is a key attached to its own lease, so an instance
/// whose process stops renewing disappears within one TTL (lease expiry on the Raft leader's clock), and watchers
/// see the set change.
/// </summary>
public sealed class ServiceRegistry
{
    private readonly CoordinationClient _client;
    private readonly TimeProvider _time;

    /// <param name="client">The store the registry lives in.</param>
    /// <param name="time">The clock the instances' lease sessions renew by.</param>
    /// <param name="root">The key prefix services live under.</param>
    public ServiceRegistry(CoordinationClient client, TimeProvider? time = null, string root = "/services/")
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _time = time ?? TimeProvider.System;
        Root = KeyQueue.NormalizePrefix(root, nameof(root));
    }

    /// <summary>The prefix every service lives under, ending in '/'.</summary>
    public string Root { get; }

    /// <summary>The key of one instance.</summary>
    public string KeyOf(string service, string instanceId) => ServicePrefix(service) + RequireName(instanceId, nameof(instanceId));

    /// <summary>
    /// Registers an instance under a lease of <paramref name="ttl"/> kept alive in the background. Registering an id
    /// that is already registered replaces that entry (the new lease owns it). Dispose the result to deregister.
    /// </summary>
    public async Task<ServiceRegistration> RegisterAsync(ServiceInstance instance, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var key = KeyOf(instance.Service, instance.Id);
        if (string.IsNullOrWhiteSpace(instance.Address))
        {
            throw new ArgumentException($"The address of instance '{instance.Id}' of service '{instance.Service}' must not be empty.", nameof(instance));
        }

        var session = await LeaseSession.StartAsync(_client, ttl, _time, cancellationToken);
        try
        {
            var value = JsonSerializer.SerializeToUtf8Bytes(
                new ServiceRecord(instance.Address, instance.Tags ?? [], instance.Metadata ?? new Dictionary<string, string>()),
                ServiceRegistryJson.Default.ServiceRecord);
            var put = await _client.PutAsync(new PutRequest(KeyQueue.Bytes(key), value) { Lease = session.LeaseId }, cancellationToken);
            return new ServiceRegistration(session, key, instance with { LeaseId = session.LeaseId, ModRevision = put.Revision });
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Registers <paramref name="instanceId"/> of <paramref name="service"/> at <paramref name="address"/>; see the other overload.</summary>
    public Task<ServiceRegistration> RegisterAsync(
        string service, string instanceId, string address, IReadOnlyList<string> tags, IReadOnlyDictionary<string, string> metadata, TimeSpan ttl,
        CancellationToken cancellationToken = default) =>
        RegisterAsync(new ServiceInstance(service, instanceId, address, tags, metadata), ttl, cancellationToken);

    /// <summary>The instances registered now (a linearizable read), in id order.</summary>
    public async Task<IReadOnlyList<ServiceInstance>> ListAsync(string service, CancellationToken cancellationToken = default) =>
        (await ListAtAsync(service, cancellationToken)).Instances;

    /// <summary>The instance set now, then again after every change to it. Runs until cancelled.</summary>
    public async IAsyncEnumerable<IReadOnlyList<ServiceInstance>> WatchAsync(string service, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prefix = KeyQueue.Bytes(ServicePrefix(service));
        while (!cancellationToken.IsCancellationRequested)
        {
            var (instances, revision) = await ListAtAsync(service, cancellationToken);
            yield return instances;
            await KeyQueue.WaitForChangeAsync(_client, prefix, revision + 1, cancellationToken);
        }
    }

    private async Task<(IReadOnlyList<ServiceInstance> Instances, long Revision)> ListAtAsync(string service, CancellationToken cancellationToken)
    {
        var prefix = ServicePrefix(service);
        var bytes = KeyQueue.Bytes(prefix);
        var response = await _client.RangeAsync(new RangeRequest(bytes) { RangeEnd = ByteKeys.PrefixEnd(bytes) }, cancellationToken);
        var instances = new List<ServiceInstance>(response.Kvs.Count);
        foreach (var kv in response.Kvs)
        {
            var id = KeyQueue.Text(kv.Key)[prefix.Length..];
            ServiceRecord? record;
            try
            {
                record = JsonSerializer.Deserialize(kv.Value, ServiceRegistryJson.Default.ServiceRecord);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"The registry entry {KeyQueue.Text(kv.Key)} is not a service record: {e.Message}", e);
            }

            if (record is not null)
            {
                instances.Add(new ServiceInstance(service, id, record.Address, record.Tags ?? [], record.Metadata ?? new Dictionary<string, string>())
                {
                    LeaseId = kv.Lease,
                    ModRevision = kv.ModRevision,
                });
            }
        }

        return (instances, response.Revision);
    }

    private string ServicePrefix(string service) => Root + RequireName(service, nameof(service)) + "/";

    private static string RequireName(string name, string parameterName) =>
        string.IsNullOrWhiteSpace(name) || name.Contains('/')
            ? throw new ArgumentException($"'{name}' is not a valid {parameterName}: it must be non-empty and contain no '/'.", parameterName)
            : name;
}

/// <summary>A registered instance; disposing (or <see cref="DeregisterAsync"/>) revokes its lease, removing it at once.</summary>
public sealed class ServiceRegistration : IAsyncDisposable
{
    internal ServiceRegistration(LeaseSession session, string key, ServiceInstance instance)
    {
        Session = session;
        Key = key;
        Instance = instance;
    }

    public string Key { get; }

    public ServiceInstance Instance { get; }

    /// <summary>The lease keeping the instance registered; <see cref="LeaseSession.Lost"/> tells when it no longer is.</summary>
    public LeaseSession Session { get; }

    public async Task DeregisterAsync() => await Session.DisposeAsync();

    public ValueTask DisposeAsync() => Session.DisposeAsync();
}

/// <summary>The JSON value of a registry key (the service and id are in the key).</summary>
internal sealed record ServiceRecord(
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("tags")] IReadOnlyList<string>? Tags,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata);

[JsonSerializable(typeof(ServiceRecord))]
internal sealed partial class ServiceRegistryJson : JsonSerializerContext;
