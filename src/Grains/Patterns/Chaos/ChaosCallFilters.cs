using Microsoft.Extensions.Logging;

namespace Orleans.Patterns.Chaos;

/// <summary>Request-context key under which a silo stamps its name on the calls it sends.</summary>
internal static class ChaosRequestContext
{
    public const string SourceKey = "chaos-src";
}

/// <summary>
/// Stamps the calling silo's name on every outgoing call. Orleans' call context does not say which silo a call
/// came from, and the incoming side needs it to apply per-link rules.
/// </summary>
internal sealed class ChaosOutgoingCallFilter(ChaosRuleStore store) : IOutgoingGrainCallFilter
{
    // Async on purpose: the request-context change then stays inside this call and does not leak into the
    // caller's later calls (an async method restores the caller's execution context when it returns).
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (store.Enabled)
        {
            RequestContext.Set(ChaosRequestContext.SourceKey, store.SiloName);
        }

        await context.Invoke();
    }
}

/// <summary>
/// Applies the rules to calls arriving from another silo, before the grain runs: drop throws
/// <see cref="ChaosInjectedException"/> to the caller, delay waits on the silo's <see cref="TimeProvider"/>,
/// duplicate runs the call a second time. Calls without a silo stamp (from clients) pass untouched.
/// </summary>
internal sealed partial class ChaosIncomingCallFilter(
    ChaosRuleStore store,
    ChaosScope scope,
    TimeProvider time,
    ILogger<ChaosIncomingCallFilter> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!store.Enabled
            || store.Current.IsEmpty
            || RequestContext.Get(ChaosRequestContext.SourceKey) is not string source
            // A client can put anything in its request context; its calls are never faulted.
            || context.SourceId is { } caller && caller.IsClient()
            || !scope.Covers(context.TargetId, context.InterfaceMethod))
        {
            await context.Invoke();
            return;
        }

        var decision = store.Decide(new ChaosCall(source, store.SiloName, context.InterfaceMethod.DeclaringType!.FullName ?? context.InterfaceName));
        if (decision.IsNone)
        {
            await context.Invoke();
            return;
        }

        if (decision.DroppedBy is { } rule)
        {
            LogDropped(logger, rule, context.InterfaceName, context.MethodName, source, store.SiloName);
            throw new ChaosInjectedException(rule, source, store.SiloName, $"{context.InterfaceName}.{context.MethodName}");
        }

        if (decision.Delay > TimeSpan.Zero)
        {
            // The wait holds the callee's turn, like a slow callee rather than a slow wire: a non-reentrant
            // grain queues its other calls behind it.
            await Task.Delay(decision.Delay, time);
        }

        await context.Invoke();
        if (decision.DuplicatedBy is { } duplicate)
        {
            // Orleans' invoker supports running the rest of the pipeline again; the caller sees the second result.
            LogDuplicated(logger, duplicate, context.InterfaceName, context.MethodName, source, store.SiloName);
            await context.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chaos rule {Rule} dropped {Interface}.{Method} from {Source} to {Target}")]
    private static partial void LogDropped(ILogger logger, string rule, string @interface, string method, string source, string target);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chaos rule {Rule} duplicated {Interface}.{Method} from {Source} to {Target}")]
    private static partial void LogDuplicated(ILogger logger, string rule, string @interface, string method, string source, string target);
}
