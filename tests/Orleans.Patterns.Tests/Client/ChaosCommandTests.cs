using Orleans.Patterns.Client;
using Orleans.Patterns.Client.Commands;

namespace Orleans.Patterns.Tests.Client;

/// <summary>Argument parsing of the chaos commands, and usage errors reported before any cluster is contacted.</summary>
[Trait("Category", "Unit")]
public sealed class ChaosCommandTests
{
    [Fact]
    public void Partition_sides_are_split_on_slashes_and_commas()
    {
        var sides = ChaosArguments.ParseSides("silo-1,silo-2 / silo-3");
        Assert.Equal(2, sides.Length);
        Assert.Equal(new[] { "silo-1", "silo-2" }, sides[0].ToArray());
        Assert.Equal(new[] { "silo-3" }, sides[1].ToArray());
    }

    [Theory]
    [InlineData("50ms", 50)]
    [InlineData("1.5s", 1500)]
    [InlineData("0", 0)]
    public void Durations_parse_in_milliseconds_or_seconds(string text, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), ChaosArguments.ParseDuration("delay", text));

    [Theory]
    [InlineData("chaos", "drop", "--rate", "2")]
    [InlineData("chaos", "partition", "silo-1")]
    [InlineData("chaos", "delay", "fast")]
    public async Task Bad_chaos_arguments_exit_with_2_without_a_cluster(params string[] args)
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(args, console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.StartsWith("error: ", Assert.Single(console.ErrorLines), StringComparison.Ordinal);
    }
}
