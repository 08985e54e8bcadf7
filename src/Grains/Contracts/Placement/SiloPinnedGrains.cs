namespace Orleans.Patterns.Placement;

/// <summary>
/// Addressing of "one grain per silo" grains placed by silo-pinned placement: the grain key is the silo's stable
/// name from configuration (<c>silo-1</c>), never its address, so a restarted silo (new generation, maybe a new
/// port) gets the same grain back under the same key.
/// </summary>
public static class SiloPinnedGrains
{
    /// <summary>The grain of type <typeparamref name="TGrain"/> pinned to the silo named <paramref name="siloName"/>.</summary>
    public static TGrain GetPinnedGrain<TGrain>(this IGrainFactory factory, string siloName)
        where TGrain : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentException.ThrowIfNullOrWhiteSpace(siloName);
        return factory.GetGrain<TGrain>(siloName);
    }

    /// <summary>
    /// The names of the silos that membership currently lists as active, sorted. Works from a client and from a
    /// silo, because it asks the management grain rather than the silo-only membership service.
    /// </summary>
    public static async Task<IReadOnlyList<string>> GetActiveSiloNamesAsync(this IGrainFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var hosts = await factory.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        return hosts.Select(h => h.SiloName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }
}

/// <summary>
/// A silo-pinned grain was called while no active silo carries the name in its key. The grain is deliberately
/// not placed anywhere else: a per-silo grain running on the wrong silo would act for a silo it is not on.
/// </summary>
[GenerateSerializer, Alias("patterns.pinned-silo-unavailable")]
public sealed class PinnedSiloUnavailableException : OrleansException
{
    /// <summary>Creates the exception for <paramref name="grainId"/> pinned to <paramref name="siloName"/>.</summary>
    public PinnedSiloUnavailableException(string siloName, string grainId)
        : base($"silo '{siloName}' is not active; pinned grain {grainId} cannot be placed")
    {
        SiloName = siloName;
        GrainId = grainId;
    }

    /// <summary>The stable silo name the grain is pinned to.</summary>
    [Id(0)]
    public string SiloName { get; private set; }

    /// <summary>The grain that could not be placed.</summary>
    [Id(1)]
    public string GrainId { get; private set; }
}
