using System.Diagnostics;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Silo.Hosting;
using Orleans.Patterns.Tests.Coordination.Etcd;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Hosting;

/// <summary>The silo host switches the etcd API on with <c>--etcd-port</c>, and refuses a clashing port naming the key.</summary>
[Trait("Category", "Cluster")]
public sealed class SiloHostEtcdTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_started_with_an_etcd_port_serves_etcdctl()
    {
        var root = PatternsClusterFactory.CreateStorageRoot();
        var ports = FreePorts.Take(4);
        try
        {
            await using var app = await SiloHost.BuildAsync(Args(root, ports, ports[3]), CancellationToken.None);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await app.StartAsync(timeout.Token);
            try
            {
                var etcdctl = new Etcdctl($"http://127.0.0.1:{ports[3]}", output);
                // The single voter elects itself shortly after start; etcdctl's own retries cover that moment.
                await Eventually.WaitAsync(
                    async () => (await etcdctl.RunAsync(["put", "/host/k", "v"])).ExitCode == 0,
                    TimeSpan.FromSeconds(30),
                    () => "etcdctl put through the silo host's etcd endpoint");
                Assert.Equal("/host/k\nv\n", await etcdctl.OkAsync("get", "/host/k"));
                var member = (await etcdctl.OkAsync("member", "list")).Trim().Split(", ");
                Assert.Equal("silo-e", member[2]);
                Assert.Equal($"http://127.0.0.1:{ports[3]}", member[4]);

                // Open streams (a watch, a lock's keep-alives) must not hold the silo's shutdown up.
                await using var watch = etcdctl.StartLongRunning("watch", "/host/k");
                await using var held = etcdctl.StartLongRunning("lock", "/host/lock");
                Assert.StartsWith("/host/lock/", await held.ReadLineAsync(TimeSpan.FromSeconds(20)));
                await etcdctl.OkAsync("put", "/host/k", "w");
                Assert.Equal(["PUT", "/host/k", "w"], await watch.ReadLinesAsync(3, TimeSpan.FromSeconds(20)));
                var stopping = Stopwatch.StartNew();
                await app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                output.WriteLine($"silo stopped in {stopping.ElapsedMilliseconds} ms with a watch and a lock open");
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            PatternsClusterFactory.DeleteStorageRoot(root);
        }
    }

    [Fact]
    public async Task An_etcd_port_equal_to_another_port_is_refused_naming_the_key()
    {
        var root = PatternsClusterFactory.CreateStorageRoot();
        try
        {
            var ports = FreePorts.Take(3);
            var error = await Assert.ThrowsAsync<SiloConfigurationException>(() => SiloHost.BuildAsync(Args(root, ports, ports[2]), CancellationToken.None));
            Assert.Contains("silo:etcd_port", error.Message);
            error = await Assert.ThrowsAsync<SiloConfigurationException>(() => SiloHost.BuildAsync(Args(root, ports, 70000), CancellationToken.None));
            Assert.Contains("silo:etcd_port", error.Message);
        }
        finally
        {
            PatternsClusterFactory.DeleteStorageRoot(root);
        }
    }

    private static string[] Args(string root, int[] ports, int etcdPort) =>
    [
        "--name", "silo-e",
        "--silo-port", ports[0].ToString(),
        "--primary-port", ports[0].ToString(),
        "--gateway-port", ports[1].ToString(),
        "--http-port", ports[2].ToString(),
        "--etcd-port", etcdPort.ToString(),
        "--storage", Path.Combine(root, "grain-state"),
        "--raft:data_directory", Path.Combine(root, "raft-data"),
        "--dashboard:enabled", "false",
    ];
}
