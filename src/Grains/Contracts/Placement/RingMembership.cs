namespace Orleans.Patterns.Placement;

/// <summary>
/// How a silo is named on the consistent-hash ring. Silos and clients must agree on this to compute the
/// same owner for a key, so it lives in the contracts.
/// </summary>
public static class RingMembership
{
    /// <summary>
    /// The ring member id of a silo: its endpoint (<c>127.0.0.1:11111</c>) without the generation, so a silo
    /// restarted on the same endpoint gets back the same virtual nodes and the same keys.
    /// </summary>
    public static string MemberId(SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo.Endpoint.ToString();
    }

    /// <summary>
    /// The ring members for a set of silos, by member id. Two generations of one endpoint can both look active
    /// for a moment after a fast restart; the member is the endpoint, so the newest generation stands for it.
    /// </summary>
    public static Dictionary<string, SiloAddress> SelectMembers(IEnumerable<SiloAddress> silos)
    {
        ArgumentNullException.ThrowIfNull(silos);
        var byMember = new Dictionary<string, SiloAddress>(StringComparer.Ordinal);
        foreach (var silo in silos)
        {
            var id = MemberId(silo);
            if (!byMember.TryGetValue(id, out var known) || silo.Generation > known.Generation)
            {
                byMember[id] = silo;
            }
        }

        return byMember;
    }
}
