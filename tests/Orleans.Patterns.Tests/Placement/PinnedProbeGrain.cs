using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Tests.Placement;

/// <summary>A test-only grain pinned to the silo named by its key, used by the pinned-placement tests.</summary>
public interface IPinnedProbeGrain : IGrainWithStringKey
{
    Task<PinnedProbeReport> WhereAmI();
}

[GenerateSerializer, Immutable, Alias("patterns.tests.pinned-probe-report")]
public sealed record PinnedProbeReport([property: Id(0)] string SiloName, [property: Id(1)] SiloAddress Silo);

[SiloPinnedPlacement]
public sealed class PinnedProbeGrain(ILocalSiloDetails silo) : Grain, IPinnedProbeGrain
{
    public Task<PinnedProbeReport> WhereAmI() => Task.FromResult(new PinnedProbeReport(silo.Name, silo.SiloAddress));
}
