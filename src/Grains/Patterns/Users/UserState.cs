namespace Orleans.Patterns.Users;

/// <summary>The durable state of one user.</summary>
[GenerateSerializer, Alias("patterns.users.state")]
public sealed class UserState
{
    [Id(0)] public string DisplayName { get; set; } = "";

    [Id(1)] public Dictionary<string, long> Counters { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public Dictionary<string, string> Values { get; set; } = new(StringComparer.Ordinal);

    [Id(3)] public long Writes { get; set; }
}
