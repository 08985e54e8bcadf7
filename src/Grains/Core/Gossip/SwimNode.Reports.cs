namespace Orleans.Patterns.Gossip;

/// <summary>Signals from outside the protocol: another failure detector's suspicion, and the host's graceful leave.</summary>
public sealed partial class SwimNode
{
    /// <summary>True once <see cref="Leave"/> ran: the member ignores time and messages from then on.</summary>
    public bool HasLeft { get; private set; }

    /// <summary>
    /// A graceful leave (memberlist's Leave): the member declares itself dead at its own incarnation and pushes that
    /// at once to up to <see cref="SwimOptions.GossipFanout"/> live members, who spread it as any death, so the group
    /// learns of a planned stop within a gossip round instead of a suspicion timeout. It then falls silent, refuting
    /// nothing; coming back takes a new member at a higher incarnation (a restarted silo's generation).
    /// </summary>
    public void Leave()
    {
        if (HasLeft)
        {
            return;
        }

        HasLeft = true;
        SetStatus(_selfSlot, new MemberStatus(_incarnation, MemberState.Dead));
        var farewell = new MemberUpdate(Self, _incarnation, MemberState.Dead);
        var count = PickRandomLive(Math.Min(_options.GossipFanout, _picked.Length), -1);
        for (var i = 0; i < count; i++)
        {
            Send(new GossipPush(Name, _directory.NameOf(_picked[i])) { Updates = [farewell] });
        }
    }

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
