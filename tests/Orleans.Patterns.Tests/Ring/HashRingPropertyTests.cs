using CsCheck;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Tests.Ring;

/// <summary>
/// Random rings checked against <see cref="RingOracle"/> and the ring's invariants.
/// </summary>
/// <remarks>
/// On failure CsCheck shrinks the input and prints its seed. To replay exactly that case, pass it to the failing
/// <c>Sample</c> call (<c>seed: "..."</c>) or set the <c>CsCheck_Seed</c> environment variable and rerun the test.
/// </remarks>
[Trait("Category", "Unit")]
public sealed class HashRingPropertyTests
{
    // Short names from a tiny alphabet that includes '#', the vnode separator, and digits: vnode strings such as
    // "a#1" + "#0" and "a" + "#10" then sit close together, and names share prefixes, which is where a naming or
    // tie-breaking slip would show. A non-ASCII letter checks the UTF-16 path.
    private static readonly Gen<string> MemberName = Gen.Char["ab#1-é"].Array[1, 6].Select(chars => new string(chars));
    private static readonly Gen<string[]> Members = MemberName.HashSet[1, 12].Select(set => set.ToArray());
    private static readonly Gen<int> VirtualNodes = Gen.Int[1, 24];
    private static readonly Gen<string[]> Keys = Gen.String.Array[1, 40];

    [Fact]
    public void OwnerIsTheFirstVirtualNodeClockwise() =>
        Gen.Select(Members, VirtualNodes, Keys).Sample((members, vnodes, keys) =>
        {
            var ring = new HashRing(members, vnodes);
            var oracle = new RingOracle(ring.Members, vnodes);
            foreach (string key in keys)
            {
                Assert.Equal(oracle.OwnerOf(HashRing.HashKey(key)), ring.GetOwnerIndex(key));
            }
        }, iter: 300);

    [Fact]
    public void InputOrderDoesNotMatter() =>
        Gen.Select(Members, VirtualNodes, Gen.Int, Keys).Sample((members, vnodes, shuffleSeed, keys) =>
        {
            var random = new Random(shuffleSeed);
            var ring = new HashRing(members, vnodes);
            var shuffled = new HashRing(members.OrderBy(_ => random.Next()), vnodes);
            Assert.Equal(ring.Members, shuffled.Members);
            foreach (string key in keys)
            {
                Assert.Equal(ring.GetOwner(key), shuffled.GetOwner(key));
            }
        }, iter: 300);

    [Fact]
    public void AJoinOnlyTakesKeys_ALeaveOnlyGivesKeys() =>
        Gen.Select(Members, MemberName, VirtualNodes, Keys).Sample((members, joiner, vnodes, keys) =>
        {
            var ring = new HashRing(members.Where(m => m != joiner), vnodes);
            if (ring.IsEmpty)
            {
                return;
            }

            HashRing grown = ring.WithMember(joiner);
            foreach (string key in keys)
            {
                string before = ring.GetOwner(key);
                string after = grown.GetOwner(key);
                Assert.True(before == after || after == joiner, $"{key}: {before} -> {after}, joiner {joiner}");
            }

            HashRing shrunk = ring.WithoutMember(ring.Members[0]);
            foreach (string key in keys.Where(_ => !shrunk.IsEmpty))
            {
                string before = ring.GetOwner(key);
                Assert.True(before == ring.Members[0] || before == shrunk.GetOwner(key));
            }
        }, iter: 300);

    [Fact]
    public void SharesSumToOne() =>
        Gen.Select(Members, VirtualNodes).Sample((members, vnodes) =>
        {
            double[] shares = new HashRing(members, vnodes).KeySpaceShares();
            Assert.Equal(members.Length, shares.Length);
            Assert.Equal(1.0, shares.Sum(), 1e-9);
            
            // Arcs are summed in double, so a lone member may get 1 plus an ulp or two.
            Assert.All(shares, share => Assert.InRange(share, 0.0, 1.0 + 1e-12));
        }, iter: 300);

    [Fact]
    public void BoundedPicksTheFirstMemberWithRoomClockwise() =>
        Gen.Select(Members, VirtualNodes, Gen.Int[0, 4].Array[12], Gen.Int[0, 4], Keys)
            .Sample((members, vnodes, loadPool, capacity, keys) =>
            {
                var ring = new HashRing(members, vnodes);
                var oracle = new RingOracle(ring.Members, vnodes);
                int[] loads = loadPool[..ring.Count];
                bool anyRoom = loads.Any(load => load < capacity);
                foreach (string key in keys)
                {
                    int chosen = ring.GetOwnerIndexBounded(key, loads, capacity);
                    Assert.Equal(oracle.BoundedOwnerOf(HashRing.HashKey(key), loads, capacity), chosen);
                    Assert.Equal(anyRoom, chosen >= 0);
                }
            }, iter: 300);
}
