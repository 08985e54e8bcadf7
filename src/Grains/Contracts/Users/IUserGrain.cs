using Orleans.Concurrency;
using Orleans.Metadata;

namespace Orleans.Patterns.Users;

/// <summary>
/// A user of the workload: a profile, named counters and a small key/value map, keyed by user id.
/// The same contract is implemented three times with different placement (see <see cref="UserPlacement"/>),
/// so one workload can compare the consistent-hash ring with Orleans' built-in placements.
/// </summary>
[DefaultGrainType(UserGrainTypes.Ring)]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>Adds <paramref name="delta"/> to the named counter and returns its new value once it is durable.</summary>
    Task<long> Increment(string counter, long delta);

    /// <summary>
    /// <see cref="Increment"/> exactly once per <paramref name="operationId"/>: a call with an id the user applied
    /// recently (its last 128 ids) returns the first call's result and changes nothing. Lets a caller retry an
    /// increment whose outcome it does not know (a timeout, a silo that went away) without counting twice.
    /// </summary>
    Task<long> IncrementOnce(string counter, long delta, Guid operationId);

    /// <summary>Sets a value in the user's key/value map; returns once it is durable.</summary>
    Task Put(string key, string value);

    /// <summary>Reads a value from the user's key/value map, or null when absent.</summary>
    [ReadOnly]
    Task<string?> Get(string key);

    /// <summary>Sets the profile's display name; returns once it is durable.</summary>
    Task SetDisplayName(string displayName);

    /// <summary>The whole user state as of this call.</summary>
    [ReadOnly]
    Task<UserSnapshot> GetSnapshot();

    /// <summary>Where this activation lives: the silo that placement chose for it.</summary>
    [ReadOnly]
    Task<GrainLocation> GetLocation();
}

/// <summary>A copy of a user's state.</summary>
/// <param name="UserId">The grain key.</param>
/// <param name="DisplayName">Profile display name, empty until set.</param>
/// <param name="Counters">Named counters.</param>
/// <param name="Values">The user's key/value map.</param>
/// <param name="Writes">Acknowledged writes since the user was created; survives re-activation.</param>
[GenerateSerializer, Immutable, Alias("patterns.users.snapshot")]
public sealed record UserSnapshot(
    [property: Id(0)] string UserId,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] IReadOnlyDictionary<string, long> Counters,
    [property: Id(3)] IReadOnlyDictionary<string, string> Values,
    [property: Id(4)] long Writes);

/// <summary>Where a grain activation lives.</summary>
/// <param name="Silo">The hosting silo's address in Orleans' parsable form (endpoint and generation).</param>
/// <param name="SiloName">The hosting silo's configured name.</param>
/// <param name="GrainType">The grain type, which tells the placement in use.</param>
/// <param name="ActivatedAt">When this activation started.</param>
[GenerateSerializer, Immutable, Alias("patterns.grain-location")]
public sealed record GrainLocation(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] string SiloName,
    [property: Id(2)] string GrainType,
    [property: Id(3)] DateTimeOffset ActivatedAt);
