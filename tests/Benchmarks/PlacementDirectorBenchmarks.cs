using System.Diagnostics.Metrics;
using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Telemetry;
using Orleans.Runtime.Placement;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// One placement decision (what runs on a user's first call) by our director and by Orleans' built-in
/// hash-based and random directors, on the same targets and silo set. The built-in directors are internal
/// to Orleans, so they are created by reflection; the baseline is the hash-based one.
/// </summary>
[MemoryDiagnoser]
public class PlacementDirectorBenchmarks
{
    private const int Targets = 1024;

    private IPlacementDirector _ring = null!;
    private IPlacementDirector _hash = null!;
    private IPlacementDirector _random = null!;
    private PlacementTarget[] _targets = null!;
    private FixedPlacementContext _context = null!;
    private ServiceProvider _services = null!;

    [Params(3, 10, 100)]
    public int Silos { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new PatternsMetrics(_services.GetRequiredService<IMeterFactory>());
        _ring = new ConsistentHashPlacementDirector(Options.Create(new ConsistentHashPlacementOptions()), metrics);
        _hash = CreateBuiltIn("Orleans.Runtime.Placement.HashBasedPlacementDirector");
        _random = CreateBuiltIn("Orleans.Runtime.Placement.RandomPlacementDirector");
        var silos = Enumerable.Range(0, Silos)
            .Select(i => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 100 + i))
            .ToArray();
        _context = new FixedPlacementContext(silos);
        var userType = GrainType.Create("user");
        _targets = [.. Enumerable.Range(0, Targets).Select(i =>
            new PlacementTarget(GrainId.Create(userType, $"user-{i}"), [], default, 0))];
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Targets)]
    public async Task<SiloAddress> HashBased() => await PlaceAll(_hash);

    [Benchmark(OperationsPerInvoke = Targets)]
    public async Task<SiloAddress> ConsistentHashRing() => await PlaceAll(_ring);

    [Benchmark(OperationsPerInvoke = Targets)]
    public async Task<SiloAddress> Random() => await PlaceAll(_random);

    private async Task<SiloAddress> PlaceAll(IPlacementDirector director)
    {
        SiloAddress last = null!;
        foreach (var target in _targets)
        {
            last = await director.OnAddActivation(ConsistentHashPlacement.Singleton, target, _context);
        }

        return last;
    }

    private static IPlacementDirector CreateBuiltIn(string typeName)
    {
        var type = typeof(Orleans.Hosting.PlacementStrategyExtensions).Assembly.GetType(typeName, throwOnError: true)!;
        return (IPlacementDirector)Activator.CreateInstance(type, nonPublic: true)!;
    }

    /// <summary>A fixed, fully compatible silo set: what every director sees in a stable cluster.</summary>
    private sealed class FixedPlacementContext(SiloAddress[] silos) : IPlacementContext
    {
        public SiloAddress LocalSilo => silos[0];

        public SiloStatus LocalSiloStatus => SiloStatus.Active;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => silos;

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = silos };
    }
}
