using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Chaos;

/// <summary>
/// The rules in force on this silo: one per silo container (so in-process test silos each have their own), read
/// by the incoming filter on every call and replaced by <see cref="ChaosControlGrain"/>.
/// </summary>
internal sealed partial class ChaosRuleStore
{
    private readonly ChaosOptions _options;
    private readonly ILogger<ChaosRuleStore> _logger;

    // Random is not thread-safe and filters run concurrently on many grains; decisions are microseconds long,
    // so one lock costs less than per-thread generators that would make a seeded run irreproducible.
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private volatile ChaosRules _current = ChaosRules.Empty;

    public ChaosRuleStore(IOptions<ChaosOptions> options, ILocalSiloDetails silo, ILogger<ChaosRuleStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        SiloName = silo.Name;
        var seed = _options.Seed ?? Random.Shared.Next();
        _random = new Random(seed ^ (int)XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(SiloName)));
        LogSeed(_logger, SiloName, seed, _options.Enabled);
    }

    public string SiloName { get; }

    public bool Enabled => _options.Enabled;

    public ChaosRules Current => _current;

    /// <summary>Installs <paramref name="ruleSet"/> if it is newer than the rules in force; returns the rules in force.</summary>
    public ChaosRuleSet Apply(ChaosRuleSet ruleSet)
    {
        if (!_options.Enabled)
        {
            throw new InvalidOperationException($"chaos is disabled on silo '{SiloName}' (chaos:enabled = false).");
        }

        var compiled = ChaosRules.Compile(ruleSet, _options.MaxDelay);
        while (true)
        {
            var current = _current;
            if (compiled.Version <= current.Version)
            {
                LogStale(_logger, SiloName, compiled.Version, current.Version);
                return current.RuleSet;
            }

            if (Interlocked.CompareExchange(ref _current, compiled, current) == current)
            {
                LogApplied(_logger, SiloName, compiled.Version, compiled.RuleSet.Rules.Length);
                return compiled.RuleSet;
            }
        }
    }

    public ChaosDecision Decide(in ChaosCall call)
    {
        var rules = _current;
        if (rules.IsEmpty)
        {
            return ChaosDecision.None;
        }

        lock (_randomLock)
        {
            return rules.Decide(call, _random);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chaos on silo {Silo}: seed {Seed}, enabled {Enabled}")]
    private static partial void LogSeed(ILogger logger, string silo, int seed, bool enabled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chaos on silo {Silo}: rules v{Version} in force ({Count} rules)")]
    private static partial void LogApplied(ILogger logger, string silo, long version, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chaos on silo {Silo}: ignored rules v{Version}, v{Current} is in force")]
    private static partial void LogStale(ILogger logger, string silo, long version, long current);
}
