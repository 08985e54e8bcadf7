using Orleans.Patterns.Users;

namespace Orleans.Patterns.Client.Workload;

/// <summary>Asks users where they live, many at a time.</summary>
internal static class UserLocator
{
    public static async Task<Dictionary<string, GrainLocation>> LocateAsync(
        IGrainFactory grains, IReadOnlyList<string> users, UserPlacement placement, CancellationToken cancellationToken, int concurrency = 64)
    {
        var locations = new Dictionary<string, GrainLocation>(users.Count, StringComparer.Ordinal);
        var results = new GrainLocation[users.Count];
        await Parallel.ForAsync(0, users.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, _) => results[i] = await grains.GetUser(users[i], placement).GetLocation());
        for (var i = 0; i < users.Count; i++)
        {
            locations[users[i]] = results[i];
        }

        return locations;
    }

    /// <summary>How many of the given users each silo hosts, by silo name.</summary>
    public static SortedDictionary<string, int> CountBySilo(IEnumerable<GrainLocation> locations)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var location in locations)
        {
            counts[location.SiloName] = counts.GetValueOrDefault(location.SiloName) + 1;
        }

        return counts;
    }
}
