using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Chaos;

/// <summary>The per-silo handle on <see cref="ChaosRuleStore"/>; pinned, so the store it reaches is its own silo's.</summary>
[SiloPinnedPlacement]
internal sealed class ChaosControlGrain(ChaosRuleStore store) : Grain, IChaosControlGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        SiloPinnedActivation.EnsureOnOwnSilo(this, store.SiloName);
        return Task.CompletedTask;
    }

    public Task<ChaosRuleSet> SetRules(ChaosRuleSet rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return Task.FromResult(store.Apply(rules));
    }

    public Task<ChaosRuleSet> GetRules() => Task.FromResult(store.Current.RuleSet);
}
