using System.Collections.Immutable;

namespace Orleans.Patterns.Chaos;

/// <summary>One cross-silo call as the rules see it: which silo called which, through which interface.</summary>
internal readonly record struct ChaosCall(string SourceSilo, string TargetSilo, string InterfaceFullName);

/// <summary>What to do to one call. <see cref="DroppedBy"/> wins over everything else.</summary>
internal readonly record struct ChaosDecision(string? DroppedBy, TimeSpan Delay, string? DuplicatedBy)
{
    public static ChaosDecision None => default;

    public bool IsNone => DroppedBy is null && Delay == TimeSpan.Zero && DuplicatedBy is null;
}

/// <summary>
/// The pure rules core: a validated <see cref="ChaosRuleSet"/> with partition sides indexed for lookup, deciding
/// per call. No clock, no I/O, no Orleans runtime; randomness comes in as an argument so a seed replays a run.
/// Immutable, so a silo publishes a new instance by swapping a reference.
/// </summary>
internal sealed class ChaosRules
{
    private readonly ImmutableArray<CompiledRule> _rules;

    private ChaosRules(ChaosRuleSet ruleSet, ImmutableArray<CompiledRule> rules)
    {
        RuleSet = ruleSet;
        _rules = rules;
    }

    public static ChaosRules Empty { get; } = new(ChaosRuleSet.Empty, []);

    public ChaosRuleSet RuleSet { get; }

    public long Version => RuleSet.Version;

    public bool IsEmpty => _rules.IsEmpty;

    /// <summary>Validates and indexes a rule set.</summary>
    /// <exception cref="ArgumentException">A rule is invalid; the message names the rule and the field.</exception>
    public static ChaosRules Compile(ChaosRuleSet ruleSet, TimeSpan maxDelay)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        if (ruleSet.Version < 0)
        {
            throw new ArgumentException($"chaos rules: version must not be negative; it is {ruleSet.Version}.", nameof(ruleSet));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var compiled = ImmutableArray.CreateBuilder<CompiledRule>(ruleSet.Rules.Length);
        foreach (var rule in ruleSet.Rules.IsDefault ? [] : ruleSet.Rules)
        {
            if (rule is null || string.IsNullOrWhiteSpace(rule.Name))
            {
                throw new ArgumentException("chaos rules: every rule needs a name.", nameof(ruleSet));
            }

            if (!names.Add(rule.Name))
            {
                throw new ArgumentException($"chaos rule '{rule.Name}': the name is used twice.", nameof(ruleSet));
            }

            compiled.Add(CompiledRule.Create(rule, maxDelay));
        }

        return new ChaosRules(ruleSet, compiled.ToImmutable());
    }

    /// <summary>
    /// Decides the fate of one call. Calls within one silo are never faulted: the rules model the network between
    /// silos. Random numbers are drawn only for rules that match, in rule order, so a seed gives one outcome.
    /// </summary>
    public ChaosDecision Decide(in ChaosCall call, Random random)
    {
        if (_rules.IsEmpty || string.Equals(call.SourceSilo, call.TargetSilo, StringComparison.Ordinal))
        {
            return ChaosDecision.None;
        }

        var delay = TimeSpan.Zero;
        string? duplicatedBy = null;
        foreach (var rule in _rules)
        {
            if (!rule.Matches(call))
            {
                continue;
            }

            switch (rule.Rule)
            {
                case PartitionRule:
                    return new ChaosDecision(rule.Rule.Name, TimeSpan.Zero, null);
                case DropRule drop when random.NextDouble() < drop.Probability:
                    return new ChaosDecision(rule.Rule.Name, TimeSpan.Zero, null);
                case DelayRule d:
                    delay += d.Fixed + (d.Jitter == TimeSpan.Zero ? TimeSpan.Zero : d.Jitter * random.NextDouble());
                    break;
                case DuplicateRule dup when random.NextDouble() < dup.Probability:
                    duplicatedBy ??= rule.Rule.Name;
                    break;
            }
        }

        return new ChaosDecision(null, delay, duplicatedBy);
    }

    /// <summary>Whether an interface entry of a rule names <paramref name="interfaceFullName"/>, by full or simple name.</summary>
    internal static bool InterfaceMatches(string entry, string interfaceFullName) =>
        string.Equals(entry, interfaceFullName, StringComparison.Ordinal)
        || (interfaceFullName.Length > entry.Length
            && interfaceFullName.EndsWith(entry, StringComparison.Ordinal)
            && interfaceFullName[^(entry.Length + 1)] is '.' or '+');

    private sealed class CompiledRule
    {
        private readonly ImmutableArray<string> _interfaces;
        private readonly FrozenNames _from;
        private readonly FrozenNames _to;

        // Partition only: silo name -> index of its side.
        private readonly ImmutableDictionary<string, int> _sideOf = ImmutableDictionary<string, int>.Empty;

        private CompiledRule(ChaosRule rule, FrozenNames from, FrozenNames to, ImmutableDictionary<string, int>? sideOf)
        {
            Rule = rule;
            _interfaces = rule.Interfaces.IsDefault ? [] : rule.Interfaces;
            _from = from;
            _to = to;
            _sideOf = sideOf ?? _sideOf;
        }

        public ChaosRule Rule { get; }

        public static CompiledRule Create(ChaosRule rule, TimeSpan maxDelay)
        {
            if (!rule.Interfaces.IsDefault && rule.Interfaces.Any(string.IsNullOrWhiteSpace))
            {
                throw Invalid(rule, "interfaces", "must not contain blank names");
            }

            switch (rule)
            {
                case DropRule drop:
                    CheckProbability(rule, drop.Probability);
                    return WithLinks(rule, drop.Links);
                case DuplicateRule dup:
                    CheckProbability(rule, dup.Probability);
                    return WithLinks(rule, dup.Links);
                case DelayRule delay:
                    if (delay.Fixed < TimeSpan.Zero || delay.Jitter < TimeSpan.Zero || delay.Fixed + delay.Jitter > maxDelay)
                    {
                        throw Invalid(rule, "fixed/jitter", $"must be non-negative and add up to at most {maxDelay} (chaos:max_delay); they are {delay.Fixed} and {delay.Jitter}");
                    }

                    return WithLinks(rule, delay.Links);
                case PartitionRule partition:
                    return new CompiledRule(rule, FrozenNames.Any, FrozenNames.Any, IndexSides(partition));
                default:
                    throw Invalid(rule, "kind", $"{rule.GetType().Name} is not a known rule");
            }
        }

        public bool Matches(in ChaosCall call)
        {
            if (!_interfaces.IsEmpty)
            {
                var name = call.InterfaceFullName;
                if (!_interfaces.Any(entry => InterfaceMatches(entry, name)))
                {
                    return false;
                }
            }

            if (Rule is PartitionRule)
            {
                return _sideOf.TryGetValue(call.SourceSilo, out var a)
                    && _sideOf.TryGetValue(call.TargetSilo, out var b)
                    && a != b;
            }

            return _from.Contains(call.SourceSilo) && _to.Contains(call.TargetSilo);
        }

        private static CompiledRule WithLinks(ChaosRule rule, ChaosLinks? links)
        {
            links ??= ChaosLinks.Any;
            return new CompiledRule(rule, FrozenNames.Of(rule, "from", links.From), FrozenNames.Of(rule, "to", links.To), null);
        }

        private static ImmutableDictionary<string, int> IndexSides(PartitionRule partition)
        {
            var sides = partition.Sides.IsDefault ? [] : partition.Sides;
            if (sides.Length < 2)
            {
                throw Invalid(partition, "sides", $"needs at least two sides; it has {sides.Length}");
            }

            var sideOf = ImmutableDictionary.CreateBuilder<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < sides.Length; i++)
            {
                if (sides[i].IsDefaultOrEmpty)
                {
                    throw Invalid(partition, "sides", $"side {i + 1} is empty");
                }

                foreach (var silo in sides[i])
                {
                    if (string.IsNullOrWhiteSpace(silo))
                    {
                        throw Invalid(partition, "sides", $"side {i + 1} has a blank silo name");
                    }

                    if (sideOf.TryGetValue(silo, out var other) && other != i)
                    {
                        throw Invalid(partition, "sides", $"silo '{silo}' is on sides {other + 1} and {i + 1}");
                    }

                    sideOf[silo] = i;
                }
            }

            return sideOf.ToImmutable();
        }

        private static void CheckProbability(ChaosRule rule, double probability)
        {
            if (double.IsNaN(probability) || probability is < 0 or > 1)
            {
                throw Invalid(rule, "probability", $"must be between 0 and 1; it is {probability}");
            }
        }

        private static ArgumentException Invalid(ChaosRule rule, string field, string problem) =>
            new($"chaos rule '{rule.Name}': {field} {problem}.", nameof(rule));
    }

    /// <summary>A set of silo names where "empty" means every silo.</summary>
    private sealed class FrozenNames
    {
        private readonly ImmutableHashSet<string>? _names;

        private FrozenNames(ImmutableHashSet<string>? names) => _names = names;

        public static FrozenNames Any { get; } = new(null);

        public static FrozenNames Of(ChaosRule rule, string field, ImmutableArray<string> names)
        {
            if (names.IsDefaultOrEmpty)
            {
                return Any;
            }

            if (names.Any(string.IsNullOrWhiteSpace))
            {
                throw new ArgumentException($"chaos rule '{rule.Name}': {field} has a blank silo name.", nameof(rule));
            }

            return new FrozenNames(names.ToImmutableHashSet(StringComparer.Ordinal));
        }

        public bool Contains(string silo) => _names is null || _names.Contains(silo);
    }
}
