namespace Orleans.Patterns.Chaos;

/// <summary>
/// Sets the fault-injection rules of one silo. There is one per silo, pinned to it and keyed by the silo's stable
/// name (see <see cref="Placement.SiloPinnedGrains"/>); use <see cref="ChaosCluster"/> to change every silo at once.
/// Calls to this grain are never faulted, so a partitioned cluster can always be healed.
/// </summary>
public interface IChaosControlGrain : IGrainWithStringKey
{
    /// <summary>
    /// Replaces the silo's rules if <paramref name="rules"/> is newer (higher <see cref="ChaosRuleSet.Version"/>)
    /// than the rules in force, and returns the rules in force afterwards. An older or equal version is ignored,
    /// so a late or repeated broadcast cannot roll a silo back.
    /// </summary>
    /// <exception cref="ArgumentException">A rule is invalid; the message names the rule and the field.</exception>
    Task<ChaosRuleSet> SetRules(ChaosRuleSet rules);

    /// <summary>The rules in force on this silo.</summary>
    Task<ChaosRuleSet> GetRules();
}
