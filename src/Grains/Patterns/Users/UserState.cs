namespace Orleans.Patterns.Users;

/// <summary>The durable state of one user.</summary>
[GenerateSerializer, Alias("patterns.users.state")]
public sealed class UserState
{
    [Id(0)] public string DisplayName { get; set; } = "";

    [Id(1)] public Dictionary<string, long> Counters { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public Dictionary<string, string> Values { get; set; } = new(StringComparer.Ordinal);

    [Id(3)] public long Writes { get; set; }

    /// <summary>
    /// The latest operations applied with an operation id (<c>IncrementOnce</c>), oldest first, at most
    /// <see cref="RecentOperationLimit"/>: a retry of one of them is answered from here instead of applied again.
    /// Saved with the write it belongs to, so the answer survives the loss of the silo.
    /// </summary>
    [Id(4)] public List<AppliedOperation> RecentOperations { get; set; } = [];

    /// <summary>How many applied operation ids a user remembers.</summary>
    public const int RecentOperationLimit = 128;
}

/// <summary>An operation applied under an id, and its result.</summary>
[GenerateSerializer, Immutable, Alias("patterns.users.applied-operation")]
public sealed record AppliedOperation([property: Id(0)] Guid Id, [property: Id(1)] long Result);
