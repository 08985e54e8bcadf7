namespace Orleans.Patterns.Gossip;

/// <summary>Suspicions raised from outside the protocol: another failure detector on the same member.</summary>
public sealed partial class SwimNode
{
    /// <summary>
    /// Another detector on this member (the heartbeat watchdog) stopped hearing from <paramref name="name"/>: suspect
    /// it now, exactly as a failed probe would, instead of waiting for the round-robin probe to reach it. The
    /// suspicion spreads and times out as any other, and a live member refutes it with a higher incarnation. Returns
    /// false when the member is unknown, is this member, or is already suspected or dead.
    /// </summary>
    public bool ReportSuspect(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == Name || !_directory.TryGetSlot(name, out var slot) || slot >= _states.Length || !IsLive(slot))
        {
            return false;
        }

        var status = Status(slot);
        if (status.State != MemberState.Alive)
        {
            return false;
        }

        Apply(_directory.MemberAt(slot, status.Incarnation), new MemberStatus(status.Incarnation, MemberState.Suspect), Name, null, raisedHere: true);
        return true;
    }
}
