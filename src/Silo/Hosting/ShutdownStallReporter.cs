using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Runtime.Diagnostics;

namespace Orleans.Patterns.Silo.Hosting;

/// <summary>
/// Diagnostics for a slow graceful stop: while the silo's GrainDeactivation stage runs, every
/// <see cref="ReportEvery"/> it logs each activation (up to 20, oldest first) that has started deactivating and not
/// finished, with how long and why (a migration, the shutdown). Orleans' own log says only that the stage took long.
/// Costs nothing outside a stop beyond one dictionary entry per deactivating activation, from Orleans'
/// <see cref="GrainLifecycleEvents"/>.
/// </summary>
internal sealed partial class ShutdownStallReporter : ILifecycleParticipant<ISiloLifecycle>, IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ReportFor = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<IGrainContext, (DeactivationReason Reason, long Since)> _deactivating = new(ReferenceEqualityComparer.Instance);
    private readonly ILogger<ShutdownStallReporter> _logger;
    private readonly TimeProvider _time;
    private readonly SiloAddress _silo;
    private readonly IDisposable _allListeners;
    private IDisposable? _listener;

    public ShutdownStallReporter(ILocalSiloDetails silo, TimeProvider time, ILogger<ShutdownStallReporter> logger)
    {
        _silo = silo.SiloAddress;
        _time = time;
        _logger = logger;
        _allListeners = DiagnosticListener.AllListeners.Subscribe(this);
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(ShutdownStallReporter),
            ServiceLifecycleStage.GrainDeactivation,
            _ => Task.CompletedTask,
            stopping =>
            {
                // Never part of the stop itself: the stage must not wait for its own diagnostics.
                _ = Task.Run(ReportAsync, CancellationToken.None);
                return Task.CompletedTask;
            });

    private async Task ReportAsync()
    {
        // Runs beside the catalog's DeactivateAllActivations (same stage) until nothing is left deactivating.
        var started = _time.GetTimestamp();
        var nextReport = ReportEvery;
        while (_time.GetElapsedTime(started) < ReportFor)
        {
            await Task.Delay(PollEvery, _time);
            var left = _deactivating.ToArray();
            if (left.Length == 0)
            {
                return;
            }

            if (_time.GetElapsedTime(started) < nextReport)
            {
                continue;
            }

            nextReport += ReportEvery;

            foreach (var (context, (reason, since)) in left.OrderBy(e => e.Value.Since).Take(20))
            {
                LogStillDeactivating(context.ToString() ?? "", _time.GetElapsedTime(since).TotalSeconds, reason.ReasonCode.ToString(), reason.Description);
            }

            LogStillDeactivatingCount(left.Length, _time.GetElapsedTime(started).TotalSeconds);
        }
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener value)
    {
        if (value.Name == GrainLifecycleEvents.ListenerName)
        {
            _listener = value.Subscribe(this, name => name is nameof(GrainLifecycleEvents.Deactivating) or nameof(GrainLifecycleEvents.Deactivated));
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        // The events are process-wide; several silos can share a process (a test cluster), and each reports its own.
        if (value.Value is not GrainLifecycleEvents.LifecycleEvent { GrainContext.Address.SiloAddress: { } where } || !where.Equals(_silo))
        {
            return;
        }

        switch (value.Value)
        {
            case GrainLifecycleEvents.Deactivating d:
                _deactivating[d.GrainContext] = (d.Reason, _time.GetTimestamp());
                break;
            case GrainLifecycleEvents.Deactivated d:
                _deactivating.TryRemove(d.GrainContext, out _);
                break;
        }
    }

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _allListeners.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo stop: {Activation} still deactivating after {Seconds:0.0} s ({Reason}: {Description})")]
    private partial void LogStillDeactivating(string activation, double seconds, string reason, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo stop: {Count} activations still deactivating {Seconds:0.0} s into the GrainDeactivation stage")]
    private partial void LogStillDeactivatingCount(int count, double seconds);
}
