using Orleans.Metadata;
using Orleans.Placement;

namespace Orleans.Patterns.Placement;

/// <summary>
/// "One grain per silo": places a grain whose string key is a silo's stable name (<c>silo-1</c>) on the active
/// silo with that name, and nowhere else. With no such silo, activation fails with
/// <see cref="PinnedSiloUnavailableException"/>. Grains of this strategy are also immovable: Orleans' rebalancer
/// and repartitioner never migrate them away from their silo.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("patterns.silo-pinned-placement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    /// <summary>The shared instance used by <see cref="SiloPinnedPlacementAttribute"/>.</summary>
    public static SiloPinnedPlacement Singleton { get; } = new();

    /// <inheritdoc/>
    public override void PopulateGrainProperties(IServiceProvider services, Type grainClass, GrainType grainType, Dictionary<string, string> properties)
    {
        base.PopulateGrainProperties(services, grainClass, grainType, properties);

        // The same property [Immovable] writes. Automatic migration would send the activation to another silo
        // with a placement hint; the director refuses such hints anyway, but marking the type keeps the
        // rebalancer and repartitioner from even trying (and from counting these grains as movable load).
        properties[WellKnownGrainTypeProperties.Immovable] = ((byte)ImmovableKind.Any).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Marks a grain class (string-keyed by silo name) to be placed by <see cref="SiloPinnedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacement.Singleton);

/// <summary>A last line of defence for pinned grains, called from <c>OnActivateAsync</c>.</summary>
internal static class SiloPinnedActivation
{
    /// <summary>Throws if the grain's key does not name the silo it is activating on.</summary>
    public static void EnsureOnOwnSilo(IAddressable grain, string localSiloName)
    {
        var key = grain.GetPrimaryKeyString();
        if (!string.Equals(key, localSiloName, StringComparison.Ordinal))
        {
            throw new PinnedSiloUnavailableException(key, grain.GetGrainId().ToString());
        }
    }
}
