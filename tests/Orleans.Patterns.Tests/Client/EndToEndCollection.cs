namespace Orleans.Patterns.Tests.Client;

/// <summary>
/// Tests that start real silo processes run alone, after the parallel tests: three silos and a client already
/// fill two cores, and a starved cluster is not what these tests are about.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}
