using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Patterns.Telemetry;

namespace Orleans.Patterns.Silo.Hosting;

/// <summary>
/// OpenTelemetry for a silo: Orleans' own activity sources and meter plus the project's. Nothing is
/// registered when the exporter is <c>none</c> (the default), so a local cluster stays quiet.
/// </summary>
internal static class TelemetrySetup
{
    private static readonly string[] OrleansSources =
    [
        "Microsoft.Orleans.Application",
        "Microsoft.Orleans.Runtime",
        "Microsoft.Orleans.Lifecycle",
        "Microsoft.Orleans.Storage",
    ];

    private const string OrleansMeter = "Microsoft.Orleans";

    public static void AddPatternsTelemetry(this WebApplicationBuilder builder, HostSettings settings)
    {
        var exporter = settings.Telemetry.Exporter;
        if (exporter == TelemetryExporters.None)
        {
            return;
        }

        var otlpEndpoint = new Uri(settings.Telemetry.OtlpEndpoint);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("orleans-patterns-silo", serviceInstanceId: settings.Silo.Name))
            .WithTracing(tracing =>
            {
                tracing.AddSource(OrleansSources).AddSource(PatternsTelemetry.ActivitySourceName);
                if (exporter == TelemetryExporters.Console)
                {
                    tracing.AddConsoleExporter();
                }
                else
                {
                    tracing.AddOtlpExporter(o => o.Endpoint = otlpEndpoint);
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(OrleansMeter, PatternsTelemetry.MeterName);
                if (exporter == TelemetryExporters.Console)
                {
                    metrics.AddConsoleExporter();
                }
                else
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = otlpEndpoint);
                }
            });
    }
}
