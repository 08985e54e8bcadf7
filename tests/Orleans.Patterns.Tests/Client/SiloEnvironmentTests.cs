using System.Diagnostics;
using Orleans.Patterns.Client.Cluster;

namespace Orleans.Patterns.Tests.Client;

/// <summary>The environment the local cluster's silos start with.</summary>
[Trait("Category", "Unit")]
public sealed class SiloEnvironmentTests
{
    [Fact]
    public void A_silo_starts_its_thread_pool_with_one_active_worker_and_a_plain_console()
    {
        var start = new ProcessStartInfo("dotnet");
        start.Environment.Remove(SiloProcesses.MinWorkerThreadsVariable);

        SiloProcesses.SetEnvironment(start);

        Assert.Equal("1", start.Environment[SiloProcesses.MinWorkerThreadsVariable]);
        Assert.Equal("false", start.Environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"]);
        Assert.Equal("Disabled", start.Environment["Logging__Console__FormatterOptions__ColorBehavior"]);
    }

    [Fact]
    public void A_thread_pool_setting_in_the_callers_environment_is_kept()
    {
        var start = new ProcessStartInfo("dotnet");
        start.Environment[SiloProcesses.MinWorkerThreadsVariable] = "4";

        SiloProcesses.SetEnvironment(start);

        Assert.Equal("4", start.Environment[SiloProcesses.MinWorkerThreadsVariable]);
    }
}
