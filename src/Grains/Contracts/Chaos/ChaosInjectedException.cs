namespace Orleans.Patterns.Chaos;

/// <summary>A grain call was dropped on purpose by a chaos rule; the message names the rule and the silo pair.</summary>
[GenerateSerializer, Alias("patterns.chaos.injected")]
public sealed class ChaosInjectedException : OrleansException
{
    /// <summary>Creates the exception for a call from <paramref name="sourceSilo"/> to <paramref name="targetSilo"/>.</summary>
    public ChaosInjectedException(string rule, string sourceSilo, string targetSilo, string call)
        : base($"chaos rule '{rule}' dropped {call} from silo '{sourceSilo}' to silo '{targetSilo}'")
    {
        Rule = rule;
        SourceSilo = sourceSilo;
        TargetSilo = targetSilo;
    }

    /// <summary>The name of the rule that dropped the call.</summary>
    [Id(0)]
    public string Rule { get; private set; }

    /// <summary>The calling silo's name.</summary>
    [Id(1)]
    public string SourceSilo { get; private set; }

    /// <summary>The called silo's name.</summary>
    [Id(2)]
    public string TargetSilo { get; private set; }
}
