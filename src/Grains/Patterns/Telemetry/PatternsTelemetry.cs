namespace Orleans.Patterns.Telemetry;

/// <summary>Names of the project's own OpenTelemetry meter and activity source.</summary>
public static class PatternsTelemetry
{
    /// <summary>The meter every pattern records to (placement decisions, ring size, workload counters).</summary>
    public const string MeterName = "Orleans.Patterns";

    /// <summary>The activity source of the project's own spans.</summary>
    public const string ActivitySourceName = "Orleans.Patterns";
}
