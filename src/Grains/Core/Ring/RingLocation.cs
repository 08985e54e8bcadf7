namespace Orleans.Patterns.Ring;

/// <summary>
/// Where a key lands on a <see cref="HashRing"/>: its hash, the owning member and the virtual node that claimed it.
/// </summary>
/// <param name="KeyHash">The key's position on the ring, as computed by <see cref="HashRing.HashKey"/>.</param>
/// <param name="OwnerIndex">Index of the owner in <see cref="HashRing.Members"/>.</param>
/// <param name="Owner">The owning member.</param>
/// <param name="VirtualNode">Which of the owner's virtual nodes claimed the key, from 0 to <see cref="HashRing.VirtualNodesPerMember"/> - 1.</param>
/// <param name="VirtualNodePosition">Position of that virtual node: the first one at or clockwise after <paramref name="KeyHash"/>.</param>
public readonly record struct RingLocation(ulong KeyHash, int OwnerIndex, string Owner, int VirtualNode, ulong VirtualNodePosition);
