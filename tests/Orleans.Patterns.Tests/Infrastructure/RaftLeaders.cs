using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Infrastructure;

/// <summary>Waits, in a cluster test, for the replicas to agree on a leader.</summary>
public static class RaftLeaders
{
    /// <summary>
    /// Polls every replica's status until exactly one leads and every replica names it; returns its name. On timeout
    /// the error names the <paramref name="phase"/>, if any, and lists what each replica reported last.
    /// </summary>
    public static async Task<string> WaitForSingleLeaderAsync(IGrainFactory grains, IReadOnlyList<string> replicas, TimeSpan deadline, string? phase = null)
    {
        string? leader = null;
        IReadOnlyList<RaftReplicaStatus> last = [];
        await Eventually.WaitAsync(
            async () =>
            {
                last = await Task.WhenAll(replicas.Select(r => grains.GetGrain<IRaftReplicaGrain>(r).GetStatus()));
                var leaders = last.Where(s => s.Role == "Leader").ToList();
                if (leaders.Count != 1 || last.Any(s => s.Leader != leaders[0].Node))
                {
                    return false;
                }

                leader = leaders[0].Node;
                return true;
            },
            deadline,
            () => (phase is null ? "" : $"{phase}: ") + "one leader that every replica follows; saw " +
                  string.Join("; ", last.Select(s => $"{s.Node} {s.Role} term {s.Term} leader {s.Leader ?? "-"}")));
        return leader!;
    }
}
