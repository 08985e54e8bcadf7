using System.Collections.Immutable;
using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Chaos;

/// <summary>
/// Applies one rule set to every active silo through their <see cref="IChaosControlGrain"/>s. Works from a client
/// or a silo. Silos that join later start without rules; apply again to include them.
/// </summary>
public static class ChaosCluster
{
    /// <summary>
    /// Sets <paramref name="rules"/> on every active silo under one new version (one above the highest version in
    /// force anywhere) and returns the rule set applied. Meant for one operator at a time: two concurrent callers
    /// can pick the same version, and then each silo keeps whichever arrived first.
    /// </summary>
    /// <exception cref="AggregateException">Some silos did not take the rules; each inner exception names its silo.</exception>
    public static async Task<ChaosRuleSet> SetRulesEverywhereAsync(this IGrainFactory factory, IEnumerable<ChaosRule> rules)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(rules);
        var silos = await factory.GetActiveSiloNamesAsync();
        var current = await Task.WhenAll(silos.Select(s => factory.GetPinnedGrain<IChaosControlGrain>(s).GetRules()));
        var next = new ChaosRuleSet(current.Select(r => r.Version).DefaultIfEmpty(0).Max() + 1, [.. rules]);

        var failures = new List<Exception>();
        foreach (var silo in silos)
        {
            try
            {
                await factory.GetPinnedGrain<IChaosControlGrain>(silo).SetRules(next);
            }
            catch (Exception e) when (e is not ArgumentException)
            {
                failures.Add(new OrleansException($"silo '{silo}' did not take chaos rules v{next.Version}: {e.Message}", e));
            }
        }

        return failures.Count == 0 ? next : throw new AggregateException(failures);
    }

    /// <summary>Removes every rule on every active silo.</summary>
    public static Task<ChaosRuleSet> HealEverywhereAsync(this IGrainFactory factory) =>
        factory.SetRulesEverywhereAsync([]);

    /// <summary>The rules in force on each active silo, by silo name.</summary>
    public static async Task<IReadOnlyDictionary<string, ChaosRuleSet>> GetRulesEverywhereAsync(this IGrainFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var silos = await factory.GetActiveSiloNamesAsync();
        var rules = await Task.WhenAll(silos.Select(s => factory.GetPinnedGrain<IChaosControlGrain>(s).GetRules()));
        return silos.Zip(rules).ToImmutableSortedDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
    }
}
