using System.Diagnostics;

namespace Orleans.Patterns.Telemetry;

/// <summary>Names of the project's own OpenTelemetry meter and activity source.</summary>
public static class PatternsTelemetry
{
    /// <summary>The meter every pattern records to (placement decisions, ring size, workload counters).</summary>
    public const string MeterName = "Orleans.Patterns";

    /// <summary>The activity source of the project's own spans.</summary>
    public const string ActivitySourceName = "Orleans.Patterns";

    /// <summary>
    /// The project's spans. Static like every <see cref="System.Diagnostics.ActivitySource"/>: it holds no state of
    /// its own, and starting an activity costs nothing while no listener is attached.
    /// </summary>
    internal static ActivitySource Source { get; } = new(ActivitySourceName);
}
