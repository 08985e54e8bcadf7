using System.Net.Sockets;
using Orleans.Patterns.Sharding;
using Orleans.Runtime.Messaging;
using Orleans.Storage;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Orleans.Patterns.Client.Workload.Resilience;

/// <summary>The user-grain operations the client makes, which differ in whether running one twice is harmless.</summary>
internal enum UserOperation
{
    Get,
    Put,
    SetDisplayName,
    GetSnapshot,
    Increment,

    /// <summary>An increment under an operation id (<c>IncrementOnce</c>): the user applies an id once, so a retry is safe.</summary>
    IncrementOnce,
}

/// <summary>What a failed user-grain call tells the caller about what happened on the silo.</summary>
internal enum UserCallFailure
{
    /// <summary>The silo refused the call's shard-map epoch as stale: nothing was done, and the reply names the new epoch.</summary>
    StaleEpoch,

    /// <summary>The call was refused or never sent (rejected message, no connection, gateway shedding load, open circuit).</summary>
    NotExecuted,

    /// <summary>
    /// Storage refused the user's write: another activation of the same user wrote since this one read (two can live
    /// for a moment while a silo leaves or a hand-off lands). Nothing was stored, and the user drops the activation that
    /// tried, so the next call starts from what storage holds.
    /// </summary>
    WriteConflict,

    /// <summary>The call may or may not have run: no answer in time, or the target died with the call in flight.</summary>
    OutcomeUnknown,

    /// <summary>The call ran and refused its input, or was made wrongly: the same call fails the same way again.</summary>
    BadRequest,

    /// <summary>The caller gave up (its own cancellation): not a failure of the call.</summary>
    Canceled,

    /// <summary>Anything else, an application error: reported as it is, never retried.</summary>
    Other,
}

/// <summary>
/// Which failed user-grain calls are retried. The rule is "retry only what cannot have done anything, or what does no
/// harm when done twice":
/// <list type="bullet">
/// <item><see cref="StaleShardEpochException"/>: the silo checked the epoch before serving, so nothing was done; every
/// operation is retried, at once, with the epoch the refusal names.</item>
/// <item>Not executed: <see cref="OrleansMessageRejectionException"/> other than <see cref="SiloUnavailableException"/> (Orleans
/// sends a rejection instead of running the call: target activation overloaded or failing to activate, send retries
/// exhausted), <see cref="GatewayTooBusyException"/> (the gateway shed the request), <see cref="ConnectionFailedException"/>
/// (no connection could be opened, so nothing was sent) and Polly's <see cref="BrokenCircuitException"/> (this client
/// did not call at all); every operation is retried.</item>
/// <item>Write conflict: <see cref="InconsistentStateException"/>, storage's ETag check refusing the write of an
/// activation that another activation of the same user has overtaken. The write was not made and the user drops that
/// activation (<c>UserGrain.PersistAsync</c>), so the operation was not done; every operation is retried, and the silo
/// is not blamed for it.</item>
/// <item>Outcome unknown: Orleans' response <see cref="TimeoutException"/>, Polly's <see cref="TimeoutRejectedException"/>,
/// a broken socket (<see cref="IOException"/>, <see cref="SocketException"/>), and <see cref="SiloUnavailableException"/>. The
/// last is a rejection subtype, but Orleans also raises it for calls already in flight when the target silo is declared dead
/// (<c>CallbackData.OnTargetSiloFail</c> in dotnet/orleans, "The target silo became unavailable for message"), when the call
/// may have run; one cannot tell the cases apart by type. Only idempotent operations are retried (Get, GetSnapshot, Put of a
/// value, SetDisplayName, and IncrementOnce, which the user applies once per operation id); a bare Increment is not, since
/// running it twice counts twice, and fails reporting the unknown outcome.</item>
/// <item><see cref="ArgumentException"/> and <see cref="InvalidOperationException"/>: bad input or a call made wrongly; never
/// retried, nor is any other exception.</item>
/// </list>
/// </summary>
internal static class UserCallClassifier
{
    /// <summary>Whether running <paramref name="operation"/> twice leaves the same state as running it once.</summary>
    public static bool IsIdempotent(UserOperation operation) => operation != UserOperation.Increment;

    public static UserCallFailure Classify(Exception exception) => exception switch
    {
        StaleShardEpochException => UserCallFailure.StaleEpoch,
        BrokenCircuitException => UserCallFailure.NotExecuted,
        InconsistentStateException => UserCallFailure.WriteConflict,

        // Before its base type: see the remarks on the class.
        SiloUnavailableException => UserCallFailure.OutcomeUnknown,
        OrleansMessageRejectionException or GatewayTooBusyException or ConnectionFailedException => UserCallFailure.NotExecuted,
        TimeoutRejectedException or TimeoutException or IOException or SocketException => UserCallFailure.OutcomeUnknown,
        OperationCanceledException => UserCallFailure.Canceled,
        ArgumentException or InvalidOperationException => UserCallFailure.BadRequest,
        _ => UserCallFailure.Other,
    };

    /// <summary>Whether a call of <paramref name="operation"/> that failed with <paramref name="exception"/> may be made again.</summary>
    public static bool ShouldRetry(UserOperation operation, Exception exception, bool callerCanceled = false) => Classify(exception) switch
    {
        UserCallFailure.StaleEpoch or UserCallFailure.NotExecuted or UserCallFailure.WriteConflict => true,
        UserCallFailure.OutcomeUnknown => IsIdempotent(operation),

        // Not the caller's cancellation: the runtime cancelled the call (its silo was stopping), so it may or may not
        // have run, which is an unknown outcome like a timeout.
        UserCallFailure.Canceled => !callerCanceled && IsIdempotent(operation),
        _ => false,
    };

    /// <summary>
    /// Whether the failure says something about the health of the silo the call went to, and so counts towards opening
    /// its circuit. A stale epoch is a healthy silo answering; bad input and application errors are the caller's.
    /// </summary>
    public static bool CountsAgainstSilo(Exception exception) =>
        Classify(exception) is UserCallFailure.NotExecuted or UserCallFailure.OutcomeUnknown;
}

/// <summary>
/// A non-idempotent user call (Increment) failed in a way that leaves its outcome unknown, so it was not retried: it may
/// or may not have been applied.
/// </summary>
internal sealed class UserCallOutcomeUnknownException(UserOperation operation, string userId, Exception inner)
    : Exception($"{operation} on {userId}: outcome unknown, not retried since it is not idempotent ({inner.GetType().Name}: {ClusterFirstLine(inner.Message)})", inner)
{
    public UserOperation Operation { get; } = operation;

    public string UserId { get; } = userId;

    private static string ClusterFirstLine(string message) => Cluster.ClusterConnection.FirstLine(message);
}
