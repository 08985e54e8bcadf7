namespace Orleans.Patterns.Gossip;

/// <summary>Failure detection: SWIM §3.1 (probe, ping-req) and §4.3 (round-robin targets); Lifeguard §IV-A (local health, nacks).</summary>
public sealed partial class SwimNode
{
    private readonly ProbeState _probe = new();
    private readonly List<RelayState> _relays = [];
    private readonly int[] _picked = new int[16];

    private void ProbeTick(bool stalled)
    {
        if (_probe.Active && !_probe.Indirect && _now >= _probe.IndirectAt)
        {
            if (stalled)
            {
                _probe.Active = false;
            }
            else
            {
                StartIndirectProbe();
            }
        }

        if (_probe.Active && _probe.Indirect && _now >= _probe.Deadline)
        {
            _probe.Active = false;
            if (!stalled)
            {
                FailProbe();
            }
        }

        if (_now >= _nextProbe)
        {
            StartProbe();
        }
    }

    private void StartProbe()
    {
        var period = Scaled(_options.ProbeInterval);
        _nextProbe = _now + period;
        var target = NextProbeTarget();
        if (target < 0)
        {
            return;
        }

        _probe.Active = true;
        _probe.Indirect = false;
        _probe.Target = target;
        _probe.Sequence = ++_sequence;
        _probe.IndirectAt = _now + Scaled(_options.ProbeTimeout);
        _probe.Deadline = _now + period;
        _probe.ExpectedNacks = 0;
        _probe.Nacks = 0;
        var updates = Piggyback();
        var status = Status(target);
        if (_options.Lifeguard && status.State == MemberState.Suspect)
        {
            // Lifeguard §IV-C, the buddy system: a suspect being probed is told so directly, so it can refute at once
            // instead of waiting for the suspicion to reach it by gossip.
            updates = [new MemberUpdate(_directory.MemberAt(target, status.Incarnation), status.Incarnation, MemberState.Suspect, Name), .. updates];
        }

        Send(new Ping(Name, _directory.NameOf(target), _probe.Sequence) { Updates = updates });
    }

    /// <summary>
    /// SWIM §4.3: targets are taken round-robin over a list shuffled anew at each pass, so every member is probed by
    /// each other member within a bounded time (at most 2N - 1 periods), unlike uniform random choice.
    /// </summary>
    private int NextProbeTarget()
    {
        for (var tried = 0; tried <= _probeCount; tried++)
        {
            if (_probeIndex >= _probeCount)
            {
                _random.Shuffle(_probeOrder.AsSpan(0, _probeCount));
                _probeIndex = 0;
                if (_probeCount == 0)
                {
                    return -1;
                }
            }

            var slot = _probeOrder[_probeIndex++];
            if (IsLive(slot))
            {
                return slot;
            }
        }

        return -1;
    }

    private void StartIndirectProbe()
    {
        _probe.Indirect = true;
        var target = _directory.NameOf(_probe.Target);
        var count = PickRandomLive(Math.Min(_options.IndirectChecks, _picked.Length), _probe.Target);
        for (var i = 0; i < count; i++)
        {
            Send(new PingReq(Name, _directory.NameOf(_picked[i]), _probe.Sequence, target, WantNack: _options.Lifeguard) { Updates = Piggyback() });
        }

        _probe.ExpectedNacks = _options.Lifeguard ? count : 0;
    }

    private void HandleAck(Ack ack)
    {
        if (_probe.Active && ack.Sequence == _probe.Sequence)
        {
            _probe.Active = false;

            // Lifeguard Table I: a successful probe lowers the local health multiplier.
            AdjustHealth(-1);
            return;
        }

        for (var i = 0; i < _relays.Count; i++)
        {
            if (_relays[i].Sequence == ack.Sequence)
            {
                var relay = _relays[i];
                _relays.RemoveAt(i);
                Send(new Ack(Name, relay.Origin, relay.OriginSequence) { Updates = Piggyback() });
                return;
            }
        }
    }

    private void HandleNack(Nack nack)
    {
        if (_probe.Active && _probe.Indirect && nack.Sequence == _probe.Sequence)
        {
            _probe.Nacks++;
        }
    }

    /// <summary>
    /// No ack, direct or relayed, within the period. Lifeguard §IV-A: if intermediaries answered nack, they are
    /// alive and also got nothing from the target, so the fault is likely the target's; each missing nack instead
    /// points at this member's own links or health. Without nacks to go by, a failed probe counts once. With
    /// <see cref="SwimOptions.DoubtSelfWithoutNacks"/>, a probe that heard none of its expected nacks blames only
    /// this member.
    /// </summary>
    private void FailProbe()
    {
        AdjustHealth(_probe.ExpectedNacks > 0 ? _probe.ExpectedNacks - _probe.Nacks : 1);
        if (_options.Lifeguard && _options.DoubtSelfWithoutNacks && _probe.ExpectedNacks > 0 && _probe.Nacks == 0)
        {
            return;
        }

        var slot = _probe.Target;
        if (IsLive(slot))
        {
            var status = Status(slot);
            var member = _directory.MemberAt(slot, status.Incarnation);
            Apply(member, new MemberStatus(status.Incarnation, MemberState.Suspect), Name, null, raisedHere: true);
        }
    }

    /// <summary>Probes <see cref="PingReq.Target"/> on the requester's behalf (SWIM §3.1), answering nack if it stays silent.</summary>
    private void Relay(PingReq request)
    {
        var sequence = ++_sequence;
        _relays.Add(new RelayState(sequence, request.From, request.Sequence, request.WantNack,
            _now + (_options.ProbeTimeout * 0.8), _now + _options.ProbeTimeout));
        Send(new Ping(Name, request.Target, sequence) { Updates = Piggyback() });
    }

    private void RelayTick()
    {
        for (var i = _relays.Count - 1; i >= 0; i--)
        {
            var relay = _relays[i];
            if (relay.NackPending && _now >= relay.NackAt)
            {
                // memberlist sends the nack at 80% of the probe timeout, so it reaches the requester before its own deadline.
                relay.NackPending = false;
                Send(new Nack(Name, relay.Origin, relay.OriginSequence) { Updates = Piggyback() });
            }

            if (_now >= relay.ExpiresAt)
            {
                _relays.RemoveAt(i);
            }
        }
    }

    private sealed class ProbeState
    {
        public bool Active { get; set; }

        public bool Indirect { get; set; }

        public int Target { get; set; }

        public long Sequence { get; set; }

        public TimeSpan IndirectAt { get; set; }

        public TimeSpan Deadline { get; set; }

        public int ExpectedNacks { get; set; }

        public int Nacks { get; set; }
    }

    private sealed class RelayState(long sequence, string origin, long originSequence, bool wantNack, TimeSpan nackAt, TimeSpan expiresAt)
    {
        public long Sequence { get; } = sequence;

        public string Origin { get; } = origin;

        public long OriginSequence { get; } = originSequence;

        public bool NackPending { get; set; } = wantNack;

        public TimeSpan NackAt { get; } = nackAt;

        public TimeSpan ExpiresAt { get; } = expiresAt;
    }
}
