namespace Orleans.Patterns.Sharding;

public sealed partial class ShardMap
{
    /// <summary>Checks a shard count against 1..<see cref="MaxShardCount"/>, naming the caller's parameter.</summary>
    internal static void ValidateShardCount(int shardCount, string parameterName)
    {
        if (shardCount is < 1 or > MaxShardCount)
        {
            throw new ArgumentOutOfRangeException(
                parameterName, shardCount, $"The shard count must be between 1 and {MaxShardCount}; got {shardCount}.");
        }
    }

    /// <summary>
    /// Validates member names (non-empty, non-whitespace, distinct) and returns them sorted by ordinal comparison,
    /// so any process given the same members in any order numbers them the same way.
    /// </summary>
    internal static string[] ValidateMembers(IEnumerable<string> members, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(members, parameterName);
        string[] sorted = [.. members];
        foreach (string member in sorted)
        {
            if (string.IsNullOrWhiteSpace(member))
            {
                throw new ArgumentException(
                    $"A member must be a non-empty, non-whitespace string; got {(member is null ? "null" : $"'{member}'")}.",
                    parameterName);
            }
        }

        Array.Sort(sorted, StringComparer.Ordinal);
        for (int i = 1; i < sorted.Length; i++)
        {
            if (string.Equals(sorted[i - 1], sorted[i], StringComparison.Ordinal))
            {
                throw new ArgumentException($"Duplicate member '{sorted[i]}'.", parameterName);
            }
        }

        if (sorted.Length == 0)
        {
            throw new ArgumentException("At least one member is required to own shards; got none.", parameterName);
        }

        return sorted;
    }
}
