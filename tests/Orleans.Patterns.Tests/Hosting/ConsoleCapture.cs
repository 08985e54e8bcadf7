namespace Orleans.Patterns.Tests.Hosting;

/// <summary>
/// Redirects the process-wide <see cref="Console.Error"/> for one call. Console redirection is global, so
/// captures are serialised; only code that must write to the real console (an entry point's exit path) uses it.
/// </summary>
internal static class ConsoleCapture
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<(T Result, string StandardError)> RunWithStandardErrorAsync<T>(Func<Task<T>> action)
    {
        await Gate.WaitAsync();
        var original = Console.Error;
        using var captured = new StringWriter();
        try
        {
            Console.SetError(captured);
            var result = await action();
            return (result, captured.ToString());
        }
        finally
        {
            Console.SetError(original);
            Gate.Release();
        }
    }
}
