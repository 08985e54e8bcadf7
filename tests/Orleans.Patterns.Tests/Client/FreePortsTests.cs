using Orleans.Patterns.Client.Cluster;

namespace Orleans.Patterns.Tests.Client;

/// <summary>
/// The ports `cluster up` and the demo give their silos: chosen below the OS's ephemeral range, which the kernel hands
/// to every bind of port 0 and every outgoing connection, so none of those can take a port before its silo binds it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FreePortsTests
{
    [Theory]
    [InlineData(32768, 30068, 32768)] // Linux's default range
    [InlineData(49152, 46452, 49152)] // IANA's, Windows' and macOS's
    [InlineData(31000, 0, 0)]         // no room above Orleans' test host ports: the OS picks
    public void Candidates_lie_just_below_the_ephemeral_range(int ephemeralStart, int low, int high) =>
        Assert.Equal((low, high), FreePorts.Candidates(ephemeralStart));

    [Fact]
    public void Without_a_known_range_the_os_picks() =>
        Assert.Equal((0, 0), FreePorts.Candidates(null));

    [Fact]
    public void Ports_taken_are_distinct_bindable_below_the_ephemeral_range_and_not_handed_out_twice()
    {
        var (low, high) = FreePorts.Candidates(FreePorts.EphemeralStart());

        var first = FreePorts.Take(8);
        var second = FreePorts.Take(8);

        Assert.Equal(16, first.Concat(second).Distinct().Count());
        if (high > low)
        {
            Assert.All(first.Concat(second), p => Assert.InRange(p, low, high - 1));
        }

        foreach (var port in first)
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start(); // released for the silo that will bind it
        }
    }
}
