using Microsoft.Extensions.Options;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Placement;

/// <summary>Options of <see cref="ConsistentHashPlacement"/>.</summary>
public sealed class ConsistentHashPlacementOptions
{
    /// <summary>The largest accepted <see cref="VirtualNodes"/>.</summary>
    public const int MaxVirtualNodes = 4096;

    /// <summary>
    /// Virtual nodes per silo on the ring. More virtual nodes even out each silo's share of the key space at
    /// the cost of a larger ring; the default is chosen by measurement (see <see cref="HashRing.DefaultVirtualNodes"/>).
    /// Every silo and client of a cluster must use the same value, or they disagree on owners.
    /// </summary>
    public int VirtualNodes { get; set; } = HashRing.DefaultVirtualNodes;
}

internal sealed class ConsistentHashPlacementOptionsValidator : IValidateOptions<ConsistentHashPlacementOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsistentHashPlacementOptions options) =>
        options.VirtualNodes is < 1 or > ConsistentHashPlacementOptions.MaxVirtualNodes
            ? ValidateOptionsResult.Fail(
                $"placement:virtual_nodes must be between 1 and {ConsistentHashPlacementOptions.MaxVirtualNodes}; it is {options.VirtualNodes}.")
            : ValidateOptionsResult.Success;
}
