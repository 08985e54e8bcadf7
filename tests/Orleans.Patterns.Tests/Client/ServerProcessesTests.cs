using System.Net;
using System.Net.Sockets;
using Orleans.Patterns.Client.Workload;

namespace Orleans.Patterns.Tests.Client;

/// <summary>
/// How <c>bench kv</c> finds the processes serving its endpoints and what they spent: the <c>/proc/net/tcp</c> rows it
/// reads, and on Linux a real listener found in this very process, whose CPU time grows with work done.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ServerProcessesTests
{
    private static readonly string[] Table =
    [
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 0100007F:5CD0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41001 1 0000000000000000 100 0 0 10 0",
        "   1: 0100007F:5CD1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41002 1 0000000000000000 100 0 0 10 0",
        "   2: 0100007F:5CD0 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 41003 1 0000000000000000 20 4 30 10 -1",
        "   3: 00000000000000000000000001000000:5CD2 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 41004 1 0000000000000000 100 0 0 10 0",
        "   4: 0100007F:5CD3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0",
        "   5: garbled",
    ];

    [Fact]
    public void Listening_inodes_are_the_listen_rows_on_the_ports_asked_for()
    {
        // 0x5CD0 = 23760 (a listener and a connection on it), 0x5CD1 = 23761 (not asked), 0x5CD2 = 23762 (IPv6),
        // 0x5CD3 = 23763 (inode 0: a socket being torn down).
        var ports = new HashSet<int> { 23760, 23762, 23763 };

        Assert.Equal([41001L, 41004L], ServerProcesses.ListeningInodes(Table, ports).ToArray());
    }

    [Theory]
    [InlineData("socket:[12345]", 12345L)]
    [InlineData("socket:[]", null)]
    [InlineData("pipe:[12345]", null)]
    [InlineData("/dev/null", null)]
    [InlineData("socket:[12x45]", null)]
    public void A_descriptor_is_a_socket_only_by_its_link_text(string target, long? inode) =>
        Assert.Equal(inode, ServerProcesses.SocketInode(target));

    [Fact]
    public async Task A_listener_is_found_in_its_own_process_and_its_work_shows_as_cpu()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(ServerProcesses.Find([new Uri("http://127.0.0.1:1")]));
            return;
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

        var servers = ServerProcesses.Find([endpoint]);

        Assert.NotNull(servers);
        Assert.Equal([Environment.ProcessId], servers.Pids);
        var (spun, usage) = await servers.MeasureAsync(() => Task.Run(() => Spin(TimeSpan.FromMilliseconds(200))), _ => 10);
        Assert.Equal(1, usage.Processes);

        // 200 ms of spinning on one thread over 10 operations: at least 20,000 µs each, whatever else the process did.
        Assert.True(usage.CpuMicrosPerOp >= 15_000, $"{usage.CpuMicrosPerOp} µs per op after spinning {spun} times");
        Assert.NotNull(usage.ContextSwitchesPerOp);
    }

    [Fact]
    public void Context_switches_count_each_live_thread_since_the_first_sample_and_never_go_negative()
    {
        var before = new Dictionary<(int Pid, int Tid), long> { [(1, 10)] = 100, [(1, 11)] = 50, [(2, 20)] = 7 };
        var after = new Dictionary<(int Pid, int Tid), long>
        {
            [(1, 10)] = 130, // +30
            [(2, 20)] = 3,   // a thread id reused by a new thread since: all of its 3
            [(2, 21)] = 5,   // started since: all of its 5
        };                   // (1, 11) ended: its switches are gone with it, not subtracted

        Assert.Equal(38, ServerProcesses.SwitchesBetween(before, after));
    }

    [Fact]
    public void Endpoints_on_another_machine_have_no_local_processes_to_sample() =>
        Assert.Null(ServerProcesses.Find([new Uri("http://192.0.2.1:2379")]));

    private static long Spin(TimeSpan duration)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long spins = 0;
        while (clock.Elapsed < duration)
        {
            spins++;
        }

        return spins;
    }
}
