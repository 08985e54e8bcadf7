using Orleans.Patterns.Placement;
using Orleans.Patterns.Telemetry;
using Orleans.Placement;

namespace Orleans.Patterns.Users;

/// <summary>
/// The user grain. One behaviour, three placements: the grain classes below differ only in their grain type
/// and placement attribute, so a workload can compare placements on identical work.
/// Every write is persisted before it is acknowledged, so a user survives the loss of its silo.
/// </summary>
internal abstract class UserGrainBase(
    IPersistentState<UserState> state,
    ILocalSiloDetails localSilo,
    TimeProvider timeProvider,
    PatternsMetrics metrics) : Grain, IUserGrain
{
    // Keys and values are user input; bound them so one user cannot grow its state without limit.
    private const int MaxKeyLength = 256;
    private const int MaxValueLength = 4096;
    private const int MaxEntries = 1024;

    private DateTimeOffset _activatedAt;

    /// <summary>The silo's clock.</summary>
    protected TimeProvider Time => timeProvider;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = timeProvider.GetUtcNow();
        return Task.CompletedTask;
    }

    public async Task<long> Increment(string counter, long delta)
    {
        ValidateKey(counter, nameof(counter));
        var counters = state.State.Counters;
        EnsureRoom(counters, counter);
        counters.TryGetValue(counter, out var current);
        var updated = checked(current + delta);
        counters[counter] = updated;
        await PersistAsync("increment");
        return updated;
    }

    public async Task<long> IncrementOnce(string counter, long delta, Guid operationId)
    {
        var recent = state.State.RecentOperations;
        foreach (var applied in recent)
        {
            if (applied.Id == operationId)
            {
                metrics.UserOperation("increment_repeated", GrainType);
                return applied.Result;
            }
        }

        ValidateKey(counter, nameof(counter));
        var counters = state.State.Counters;
        EnsureRoom(counters, counter);
        counters.TryGetValue(counter, out var current);
        var updated = checked(current + delta);
        counters[counter] = updated;
        recent.Add(new AppliedOperation(operationId, updated));
        if (recent.Count > UserState.RecentOperationLimit)
        {
            recent.RemoveAt(0);
        }

        await PersistAsync("increment");
        return updated;
    }

    public async Task Put(string key, string value)
    {
        ValidateKey(key, nameof(key));
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MaxValueLength)
        {
            throw new ArgumentException($"Value for key '{key}' is {value.Length} characters; the limit is {MaxValueLength}.", nameof(value));
        }

        EnsureRoom(state.State.Values, key);
        state.State.Values[key] = value;
        await PersistAsync("put");
    }

    public Task<string?> Get(string key)
    {
        ValidateKey(key, nameof(key));
        metrics.UserOperation("get", GrainType);
        return Task.FromResult(state.State.Values.GetValueOrDefault(key));
    }

    public async Task SetDisplayName(string displayName)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        if (displayName.Length > MaxKeyLength)
        {
            throw new ArgumentException($"Display name is {displayName.Length} characters; the limit is {MaxKeyLength}.", nameof(displayName));
        }

        state.State.DisplayName = displayName;
        await PersistAsync("set_display_name");
    }

    public Task<UserSnapshot> GetSnapshot()
    {
        metrics.UserOperation("snapshot", GrainType);
        var s = state.State;
        return Task.FromResult(new UserSnapshot(
            this.GetPrimaryKeyString(), s.DisplayName,
            new Dictionary<string, long>(s.Counters, StringComparer.Ordinal),
            new Dictionary<string, string>(s.Values, StringComparer.Ordinal),
            s.Writes));
    }

    public Task<GrainLocation> GetLocation() =>
        Task.FromResult(new GrainLocation(localSilo.SiloAddress, localSilo.Name, GrainType, _activatedAt));

    private string GrainType => GrainContext.GrainId.Type.ToString()!;

    private async Task PersistAsync(string operation)
    {
        state.State.Writes++;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // The change is already in memory but was not acknowledged; kept, it would show in reads and ride
            // along with the next write (twice, if the caller retries). Drop this activation so the next call
            // starts from what storage holds, whether or not the failed write reached it.
            DeactivateOnIdle();
            throw;
        }

        metrics.UserOperation(operation, GrainType);
    }

    private static void ValidateKey(string key, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(key, parameter);
        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"Key '{key[..32]}…' is {key.Length} characters; the limit is {MaxKeyLength}.", parameter);
        }
    }

    private static void EnsureRoom<TValue>(Dictionary<string, TValue> map, string key)
    {
        if (map.Count >= MaxEntries && !map.ContainsKey(key))
        {
            throw new InvalidOperationException($"A user holds at most {MaxEntries} entries per map; cannot add '{key}'.");
        }
    }
}

/// <summary>Users placed by the consistent-hash ring.</summary>
[GrainType(UserGrainTypes.Ring), ConsistentHashPlacement]
internal sealed class UserGrain(
    [PersistentState("user", UserHostingExtensions.UserStorageName)] IPersistentState<UserState> state,
    ILocalSiloDetails localSilo, TimeProvider timeProvider, PatternsMetrics metrics)
    : UserGrainBase(state, localSilo, timeProvider, metrics);

/// <summary>Users placed by Orleans' built-in hash-based placement (hash of the grain id mod N).</summary>
[GrainType(UserGrainTypes.Hash), HashBasedPlacement]
internal sealed class HashPlacedUserGrain(
    [PersistentState("user", UserHostingExtensions.UserStorageName)] IPersistentState<UserState> state,
    ILocalSiloDetails localSilo, TimeProvider timeProvider, PatternsMetrics metrics)
    : UserGrainBase(state, localSilo, timeProvider, metrics);

/// <summary>Users placed by Orleans' built-in random placement.</summary>
[GrainType(UserGrainTypes.Random), RandomPlacement]
internal sealed class RandomPlacedUserGrain(
    [PersistentState("user", UserHostingExtensions.UserStorageName)] IPersistentState<UserState> state,
    ILocalSiloDetails localSilo, TimeProvider timeProvider, PatternsMetrics metrics)
    : UserGrainBase(state, localSilo, timeProvider, metrics);
