namespace Orleans.Patterns.Client.Cluster;

/// <summary>Asking one pinned grain per silo at once, for the inspection commands.</summary>
internal static class SiloQueries
{
    /// <summary>Each silo's answer, or a one-line reason it gave none within <paramref name="timeout"/>, in name order.</summary>
    public static async Task<SortedDictionary<string, object>> AskEachAsync<T>(IReadOnlyList<string> silos, Func<string, Task<T>> ask, TimeSpan timeout)
        where T : class
    {
        var replies = await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                return (silo, (object)await ask(silo).WaitAsync(timeout));
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return (silo, (object)ClusterConnection.FirstLine(e.Message));
            }
        }));
        return new SortedDictionary<string, object>(replies.ToDictionary(r => r.silo, r => r.Item2), StringComparer.Ordinal);
    }
}
