using System.Diagnostics;

namespace Orleans.Patterns.Tests.Infrastructure;

/// <summary>
/// Waits for a condition instead of sleeping: cluster tests must not guess how long Orleans needs, and a
/// failure has to say what was still missing when the deadline passed.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Re-evaluates <paramref name="condition"/> until it returns true. Exceptions from the condition count as
    /// "not yet" (calls can fail while the cluster converges); the last one is kept as the inner exception.
    /// </summary>
    /// <param name="condition">The condition; evaluated at least once, even with a zero deadline.</param>
    /// <param name="deadline">How long to keep trying.</param>
    /// <param name="describe">Names the phase, grain and state still missing; called only on timeout.</param>
    /// <exception cref="TimeoutException">The condition did not hold before the deadline.</exception>
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> describe)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(describe);
        var clock = Stopwatch.StartNew();
        Exception? lastError = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }

                lastError = null;
            }
            catch (Exception e)
            {
                lastError = e;
            }

            if (clock.Elapsed >= deadline)
            {
                var cause = lastError is null ? "" : $" Last error: {lastError.GetType().Name}: {lastError.Message}";
                throw new TimeoutException($"{describe()} (still not true after {clock.Elapsed.TotalSeconds:F1} s).{cause}", lastError);
            }

            // The pause only paces the polling; correctness comes from re-checking the condition.
            await Task.Delay(PollInterval);
        }
    }
}
