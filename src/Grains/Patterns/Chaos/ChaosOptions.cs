using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Chaos;

/// <summary>Options of the chaos (fault injection) module switched on by <c>AddChaos</c>.</summary>
public sealed class ChaosOptions
{
    /// <summary>
    /// When false the filters pass every call through untouched and <see cref="IChaosControlGrain.SetRules"/> is
    /// refused. Default true: with no rules set, the filters only stamp and check one request-context entry.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Seed of the silo's random source for drop, jitter and duplicate decisions, mixed with the silo name so
    /// silos differ but a run replays. Null (default) picks a random seed, which is logged at startup.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Grain interfaces (simple or full names) that rules may fault at all on this silo; empty (default) means
    /// every application interface. Rules can narrow this further but never widen it.
    /// </summary>
    public IList<string> ScopedInterfaces { get; } = [];

    /// <summary>The longest delay one rule may inject (fixed plus jitter). Default 30 s, Orleans' default response timeout.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class ChaosOptionsValidator : IValidateOptions<ChaosOptions>
{
    private static readonly TimeSpan MaxDelayLimit = TimeSpan.FromMinutes(10);

    public ValidateOptionsResult Validate(string? name, ChaosOptions options)
    {
        if (options.MaxDelay <= TimeSpan.Zero || options.MaxDelay > MaxDelayLimit)
        {
            return ValidateOptionsResult.Fail($"chaos:max_delay must be above 0 and at most {MaxDelayLimit}; it is {options.MaxDelay}.");
        }

        return options.ScopedInterfaces.Any(string.IsNullOrWhiteSpace)
            ? ValidateOptionsResult.Fail("chaos:scoped_interfaces must not contain blank names.")
            : ValidateOptionsResult.Success;
    }
}
