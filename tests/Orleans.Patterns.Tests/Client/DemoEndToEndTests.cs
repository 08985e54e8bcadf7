using Orleans.Patterns.Client;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Client;

/// <summary>
/// The project's main job, exactly as a user runs it: real silo processes from the silo's build output, a
/// workload, a silo stopped, and the demo's own checks. Slow (tens of seconds), so it runs once.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class DemoEndToEndTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Demo_completes_and_reports_that_only_the_stopped_silos_users_moved_with_their_state()
    {
        var runs = Path.Combine(Environment.CurrentDirectory, ".runs");
        var existing = Directory.Exists(runs) ? Directory.GetDirectories(runs).ToHashSet(StringComparer.Ordinal) : [];
        var console = new TestConsole();
        using var deadline = new CancellationTokenSource(Deadline);

        int exitCode;
        try
        {
            exitCode = await ClientApp.RunAsync(["demo", "--users", "300", "--ops", "3000"], console.Console, console.Error, deadline.Token);
        }
        finally
        {
            output.WriteLine(console.Output);
            output.WriteLine(console.Error.ToString());
        }

        Assert.False(deadline.IsCancellationRequested, $"Demo phase: no result within {Deadline}; output above.");
        Assert.Equal(ClientApp.ExitOk, exitCode);
        Assert.Empty(console.Error.ToString());
        Assert.Contains("demo complete", console.Output, StringComparison.Ordinal);
        Assert.Contains("users moved", console.Output, StringComparison.Ordinal);
        Assert.Contains("stayed exactly where they were", console.Output, StringComparison.Ordinal);
        Assert.Contains("kept their state", console.Output, StringComparison.Ordinal);
        Assert.Contains("every user is on the silo the ring over the 2 survivors picks", console.Output, StringComparison.Ordinal);
        Assert.Contains("the watch served by", console.Output, StringComparison.Ordinal);
        Assert.Contains("and the resource refused the old holder's", console.Output, StringComparison.Ordinal);
        Assert.Contains("alpha resigned and beta leads", console.Output, StringComparison.Ordinal);

        // Only now: on failure the run directory keeps the silo logs for whoever investigates.
        foreach (var created in Directory.GetDirectories(runs).Where(d => !existing.Contains(d)))
        {
            Directory.Delete(created, recursive: true);
        }
    }
}
