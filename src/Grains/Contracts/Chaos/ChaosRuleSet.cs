using System.Collections.Immutable;

namespace Orleans.Patterns.Chaos;

/// <summary>
/// The fault-injection rules of a silo: an immutable snapshot with a version, replaced as a whole. Rules are
/// evaluated in order for each cross-silo grain call; the first drop (or partition) wins, delays add up.
/// </summary>
/// <param name="Version">Grows with every change; silos ignore a set older than the one in force.</param>
/// <param name="Rules">The rules, in evaluation order.</param>
[GenerateSerializer, Immutable, Alias("patterns.chaos.rule-set")]
public sealed record ChaosRuleSet(
    [property: Id(0)] long Version,
    [property: Id(1)] ImmutableArray<ChaosRule> Rules)
{
    /// <summary>No rules, version 0: what every silo starts with.</summary>
    public static ChaosRuleSet Empty { get; } = new(0, []);
}

/// <summary>Which directed silo pairs a rule applies to. An empty side means any silo.</summary>
/// <param name="From">Names of calling silos.</param>
/// <param name="To">Names of called silos.</param>
[GenerateSerializer, Immutable, Alias("patterns.chaos.links")]
public sealed record ChaosLinks(
    [property: Id(0)] ImmutableArray<string> From,
    [property: Id(1)] ImmutableArray<string> To)
{
    /// <summary>Every pair of distinct silos.</summary>
    public static ChaosLinks Any { get; } = new([], []);
}

/// <summary>One fault-injection rule.</summary>
/// <param name="Name">Shown in <see cref="ChaosInjectedException"/> and logs; unique within a rule set.</param>
/// <param name="Interfaces">
/// Grain interfaces the rule applies to, by simple (<c>IRaftReplicaGrain</c>) or full name; empty means every
/// application interface. Orleans' own interfaces and <see cref="IChaosControlGrain"/> are never faulted.
/// </param>
[GenerateSerializer, Immutable, Alias("patterns.chaos.rule")]
public abstract record ChaosRule(
    [property: Id(0)] string Name,
    [property: Id(1)] ImmutableArray<string> Interfaces);

/// <summary>Drops each matching call with probability <paramref name="Probability"/>.</summary>
/// <param name="Name">See <see cref="ChaosRule"/>.</param>
/// <param name="Interfaces">See <see cref="ChaosRule"/>.</param>
/// <param name="Links">The silo pairs affected.</param>
/// <param name="Probability">Between 0 and 1.</param>
[GenerateSerializer, Immutable, Alias("patterns.chaos.drop")]
public sealed record DropRule(
    string Name,
    ImmutableArray<string> Interfaces,
    [property: Id(0)] ChaosLinks Links,
    [property: Id(1)] double Probability) : ChaosRule(Name, Interfaces);

/// <summary>Delays each matching call by <paramref name="Fixed"/> plus a uniform random part of up to <paramref name="Jitter"/>.</summary>
/// <param name="Name">See <see cref="ChaosRule"/>.</param>
/// <param name="Interfaces">See <see cref="ChaosRule"/>.</param>
/// <param name="Links">The silo pairs affected.</param>
/// <param name="Fixed">The delay every matching call gets.</param>
/// <param name="Jitter">The largest extra random delay.</param>
[GenerateSerializer, Immutable, Alias("patterns.chaos.delay")]
public sealed record DelayRule(
    string Name,
    ImmutableArray<string> Interfaces,
    [property: Id(0)] ChaosLinks Links,
    [property: Id(1)] TimeSpan Fixed,
    [property: Id(2)] TimeSpan Jitter) : ChaosRule(Name, Interfaces);

/// <summary>
/// Delivers each matching call twice with probability <paramref name="Probability"/>, to exercise idempotency:
/// the callee runs the method twice in a row and the caller sees the second result.
/// </summary>
/// <param name="Name">See <see cref="ChaosRule"/>.</param>
/// <param name="Interfaces">See <see cref="ChaosRule"/>.</param>
/// <param name="Links">The silo pairs affected.</param>
/// <param name="Probability">Between 0 and 1.</param>
[GenerateSerializer, Immutable, Alias("patterns.chaos.duplicate")]
public sealed record DuplicateRule(
    string Name,
    ImmutableArray<string> Interfaces,
    [property: Id(0)] ChaosLinks Links,
    [property: Id(1)] double Probability) : ChaosRule(Name, Interfaces);

/// <summary>
/// Splits silos into sides that cannot call each other: a call between silos on different sides is dropped, in
/// both directions. Silos on no side are unaffected.
/// </summary>
/// <param name="Name">See <see cref="ChaosRule"/>.</param>
/// <param name="Interfaces">See <see cref="ChaosRule"/>.</param>
/// <param name="Sides">Disjoint sets of silo names; at least two.</param>
[GenerateSerializer, Immutable, Alias("patterns.chaos.partition")]
public sealed record PartitionRule(
    string Name,
    ImmutableArray<string> Interfaces,
    [property: Id(0)] ImmutableArray<ImmutableArray<string>> Sides) : ChaosRule(Name, Interfaces);
