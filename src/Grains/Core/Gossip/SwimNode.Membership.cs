namespace Orleans.Patterns.Gossip;

/// <summary>The view: SWIM §4.2 (suspicion, incarnations, refutation) and Lifeguard §IV-B (suspicion timeouts).</summary>
public sealed partial class SwimNode
{
    /// <summary>
    /// Applies one claim about a member, from a piggy-backed update, a push-pull row or this node's own probe. A claim
    /// that takes precedence (<see cref="MemberStatus.Supersedes"/>) replaces the entry and is passed on; a suspicion
    /// equal to the one held counts as a confirmation (Lifeguard §IV-B) and is passed on if it was a new one.
    /// <paramref name="update"/> is the received update object, re-sent as it is to save allocating one.
    /// </summary>
    /// <returns>The slot of the member when the claim is older than what this node holds (see <see cref="Correct"/>), else -1.</returns>
    private int Apply(Member member, MemberStatus incoming, string source, MemberUpdate? update, bool raisedHere)
    {
        var slot = _directory.SlotOf(member, incoming.Incarnation);
        if (incoming.State == MemberState.Alive)
        {
            _directory.Record(slot, incoming.Incarnation, member);
        }

        if (slot == _selfSlot)
        {
            return ApplyAboutSelf(incoming) ? slot : -1;
        }

        EnsureCapacity(slot);
        if (_states[slot] == Unknown)
        {
            // The death of a member never known is ignored: there is nothing to take back. A suspicion is taken (unlike
            // memberlist, whose suspect messages carry no address), so a push-pull hands over the whole view.
            if (incoming.State != MemberState.Dead)
            {
                AddKnown(slot, incoming);
                Event(slot, MembershipChange.Joined, incoming, raisedHere);
                if (incoming.State == MemberState.Suspect)
                {
                    StartSuspicion(slot, incoming.Incarnation, source);
                    Event(slot, MembershipChange.Suspected, incoming, raisedHere);
                }

                Broadcast(slot, update ?? new MemberUpdate(member, incoming.Incarnation, incoming.State, incoming.State == MemberState.Suspect ? source : null));
            }

            return -1;
        }

        var current = Status(slot);
        if (!incoming.Supersedes(current))
        {
            if (incoming == current && incoming.State == MemberState.Suspect && _suspicions.TryGetValue(slot, out var suspicion)
                && suspicion.Confirm(source))
            {
                _nextSuspicionDeadline = Min(_nextSuspicionDeadline, suspicion.NextAction(_options.Lifeguard ? _options.ProbeTimeout : TimeSpan.Zero));
                Broadcast(slot, update ?? new MemberUpdate(member, incoming.Incarnation, incoming.State, source));
            }

            return current.Supersedes(incoming) ? slot : -1;
        }

        SetStatus(slot, incoming);
        _changedAt[slot] = _now;
        if (current.State == MemberState.Dead && incoming.State != MemberState.Dead)
        {
            _liveOthers++;
        }

        if (_suspicions.Remove(slot, out var ended) && ended.NextAction(_options.Lifeguard ? _options.ProbeTimeout : TimeSpan.Zero) <= _nextSuspicionDeadline)
        {
            RefreshSuspicionDeadline();
        }

        switch (incoming.State)
        {
            case MemberState.Alive:
                Event(slot, current.State == MemberState.Alive ? MembershipChange.Updated : MembershipChange.Recovered, incoming, raisedHere);
                break;
            case MemberState.Suspect:
                StartSuspicion(slot, incoming.Incarnation, source);
                Event(slot, MembershipChange.Suspected, incoming, raisedHere);
                break;
            case MemberState.Dead:
                if (current.State != MemberState.Dead)
                {
                    _liveOthers--;
                }

                Event(slot, MembershipChange.Dead, incoming, raisedHere);
                break;
        }

        Broadcast(slot, update ?? new MemberUpdate(member, incoming.Incarnation, incoming.State, incoming.State == MemberState.Suspect ? source : null));
        return -1;
    }

    /// <summary>
    /// SWIM §4.2: a member that hears itself suspected (or declared dead) at its current incarnation or later
    /// refutes by announcing itself alive at a higher one. Lifeguard Table I: having to refute raises its local health
    /// multiplier, since being suspected hints that it is the slow one.
    /// </summary>
    /// <returns>True when the claim is a suspicion or death already refuted: the sender is behind.</returns>
    private bool ApplyAboutSelf(MemberStatus incoming)
    {
        if (incoming.State != MemberState.Alive && incoming.Incarnation >= _incarnation)
        {
            AdjustHealth(+1);
            AnnounceAlive(incoming.Incarnation + 1);
        }
        else if (incoming.State == MemberState.Alive && incoming.Incarnation > _incarnation)
        {
            // An announcement of this member from an earlier life with a higher incarnation: outbid it.
            AnnounceAlive(incoming.Incarnation + 1);
        }

        return incoming.State != MemberState.Alive && incoming.Incarnation < _incarnation;
    }

    /// <summary>
    /// Answers a sender that passed on claims older than this node's entries with those entries. An update reaches
    /// each member with probability about 1 - e^(-retransmits), so at a thousand members some refutation now and then
    /// misses someone, who would then declare a live member dead when its suspicion times out; memberlist leaves the
    /// repair to push-pull, which at that size runs every few minutes, long after the timeout. The stale member keeps
    /// passing its claim on, so the answers find it within a gossip round or two. Bounded by the stale claims received.
    /// </summary>
    private void Correct(string sender, List<int> staleSlots)
    {
        var updates = new MemberUpdate[staleSlots.Count];
        for (var i = 0; i < staleSlots.Count; i++)
        {
            var slot = staleSlots[i];
            var status = Status(slot);
            updates[i] = new MemberUpdate(slot == _selfSlot ? Self : _directory.MemberAt(slot, status.Incarnation), status.Incarnation, status.State,
                status.State == MemberState.Suspect ? Name : null);
        }

        Send(new GossipPush(Name, sender) { Updates = updates });
        staleSlots.Clear();
    }

    private void AnnounceAlive(int incarnation)
    {
        _incarnation = incarnation;
        _directory.Record(_selfSlot, incarnation, Self);
        SetStatus(_selfSlot, new MemberStatus(incarnation, MemberState.Alive));
        Broadcast(_selfSlot, new MemberUpdate(Self, incarnation, MemberState.Alive));
    }

    /// <summary>
    /// The suspicion timeout. Its base is α·max(1, log10 N)·probe interval (memberlist's <c>suspicionTimeout</c>), enough
    /// for a suspicion to reach everyone and a refutation to come back. Plain SWIM waits exactly that; Lifeguard §IV-B
    /// starts at β times it and expects K = α - 2 independent confirmations to bring it down to the base.
    /// </summary>
    private void StartSuspicion(int slot, int incarnation, string raisedBy)
    {
        var n = LiveMembers;
        var scale = Math.Max(1.0, Math.Log10(Math.Max(1, n)));
        var min = TimeSpan.FromMilliseconds(Math.Floor(_options.SuspicionMultiplier * scale * _options.ProbeInterval.TotalMilliseconds));
        Suspicion suspicion;
        if (_options.Lifeguard)
        {
            var expected = _options.SuspicionMultiplier - 2;
            if (n - 2 < expected)
            {
                expected = 0;
            }

            suspicion = new Suspicion(incarnation, raisedBy, _now, min, min * _options.SuspicionMaxMultiplier, expected);
        }
        else
        {
            suspicion = new Suspicion(incarnation, raisedBy, _now, min, min, 0);
        }

        _suspicions[slot] = suspicion;
        _nextSuspicionDeadline = Min(_nextSuspicionDeadline, suspicion.NextAction(_options.Lifeguard ? _options.ProbeTimeout : TimeSpan.Zero));
    }

    /// <summary>
    /// Suspicions whose time is up become deaths ("confirm", SWIM §4.2), announced by this node. Under Lifeguard each
    /// suspicion first gets a last call a probe timeout before its end: a ping to the suspect carrying the suspicion,
    /// as the buddy system does for probes (§IV-C). A live suspect that has already refuted answers with its newer
    /// incarnation (see <see cref="Correct"/>), which catches the member that a refutation's epidemic happened to
    /// miss; a dead one stays silent and costs one message.
    /// </summary>
    private void SuspicionTick(bool stalled)
    {
        if (_now < _nextSuspicionDeadline)
        {
            return;
        }

        var lead = _options.Lifeguard ? _options.ProbeTimeout : TimeSpan.Zero;
        List<(int Slot, Suspicion Suspicion)>? expired = null;
        foreach (var (slot, suspicion) in _suspicions)
        {
            if (!suspicion.LastCallSent && _options.Lifeguard && suspicion.Deadline - lead <= _now)
            {
                suspicion.LastCallSent = true;
                var status = Status(slot);
                var update = new MemberUpdate(_directory.MemberAt(slot, status.Incarnation), status.Incarnation, MemberState.Suspect, Name);
                Send(new Ping(Name, _directory.NameOf(slot), ++_sequence) { Updates = [update] });
                if (suspicion.Deadline < _now + lead)
                {
                    // Confirmations brought the end closer than the lead: the answer still gets its probe timeout.
                    _suspicions[slot] = Extended(suspicion, _now + lead);
                }
            }
            else if (suspicion.Deadline <= _now)
            {
                (expired ??= []).Add((slot, suspicion));
            }
        }

        if (expired is not null && stalled)
        {
            // Woken late (see Tick): a refutation may be waiting in the backlog, so read it before declaring a death.
            foreach (var (slot, suspicion) in expired)
            {
                _suspicions[slot] = Extended(suspicion, _now + _options.ProbeTimeout);
            }

            expired = null;
        }

        foreach (var (slot, suspicion) in expired ?? [])
        {
            var member = _directory.MemberAt(slot, suspicion.Incarnation);
            Apply(member, new MemberStatus(suspicion.Incarnation, MemberState.Dead), Name, null, raisedHere: true);
        }

        RefreshSuspicionDeadline();
    }

    private Suspicion Extended(Suspicion suspicion, TimeSpan until) =>
        new(suspicion.Incarnation, Name, until, TimeSpan.Zero, TimeSpan.Zero, 0) { LastCallSent = true };

    private void RefreshSuspicionDeadline()
    {
        var lead = _options.Lifeguard ? _options.ProbeTimeout : TimeSpan.Zero;
        var next = TimeSpan.MaxValue;
        foreach (var suspicion in _suspicions.Values)
        {
            next = Min(next, suspicion.NextAction(lead));
        }

        _nextSuspicionDeadline = next;
    }

    private void AddKnown(int slot, MemberStatus status)
    {
        SetStatus(slot, status);
        if (status.State != MemberState.Dead)
        {
            _liveOthers++;
        }

        // memberlist inserts a new member at a random place in the probe list, so it is not always probed last.
        if (_probeCount == _probeOrder.Length)
        {
            Array.Resize(ref _probeOrder, Math.Max(4, _probeCount * 2));
        }

        var at = _random.Next(_probeCount + 1);
        _probeOrder[_probeCount++] = _probeOrder[at];
        _probeOrder[at] = slot;
    }

    private void Event(int slot, MembershipChange change, MemberStatus status, bool raisedHere) =>
        _events.Add(new MembershipEvent(_directory.NameOf(slot), change, status, _now, raisedHere));
}
