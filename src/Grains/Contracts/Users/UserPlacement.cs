namespace Orleans.Patterns.Users;

/// <summary>Which placement decides the silo of a user grain.</summary>
public enum UserPlacement
{
    /// <summary>The consistent-hash ring (<c>ConsistentHashPlacement</c>): only ~1/N of users move when a silo joins or leaves.</summary>
    Ring,

    /// <summary>Orleans' built-in hash-based placement: hash of the grain id modulo the number of silos.</summary>
    Hash,

    /// <summary>Orleans' built-in random placement.</summary>
    Random,

    /// <summary>
    /// The shard map: user → shard → owning silo in the current epoch (<c>ShardedPlacement</c>); users move live,
    /// throttled, when the map changes.
    /// </summary>
    Sharded,
}

/// <summary>Grain type names of the user grain, one per <see cref="UserPlacement"/>.</summary>
public static class UserGrainTypes
{
    /// <summary>Grain type of users placed by the consistent-hash ring.</summary>
    public const string Ring = "user";

    /// <summary>Grain type of users placed by Orleans' hash-based placement.</summary>
    public const string Hash = "user-hash";

    /// <summary>Grain type of users placed by Orleans' random placement.</summary>
    public const string Random = "user-random";

    /// <summary>Grain type of users placed by the shard map.</summary>
    public const string Sharded = "user-sharded";

    /// <summary>The grain type that implements <paramref name="placement"/>.</summary>
    public static string For(UserPlacement placement) => placement switch
    {
        UserPlacement.Ring => Ring,
        UserPlacement.Hash => Hash,
        UserPlacement.Random => Random,
        UserPlacement.Sharded => Sharded,
        _ => throw new ArgumentOutOfRangeException(nameof(placement), placement, "Unknown user placement."),
    };
}

/// <summary>Resolves user grains by id and placement.</summary>
public static class UserGrainFactoryExtensions
{
    /// <summary>The user grain for <paramref name="userId"/> under the given placement.</summary>
    public static IUserGrain GetUser(this IGrainFactory grainFactory, string userId, UserPlacement placement = UserPlacement.Ring)
    {
        ArgumentNullException.ThrowIfNull(grainFactory);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        return grainFactory.GetGrain<IUserGrain>(GrainId.Create(UserGrainTypes.For(placement), userId));
    }
}
