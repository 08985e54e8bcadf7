namespace Orleans.Patterns.Gossip;

/// <summary>
/// One member of a SWIM group (Das, Gupta, Motivala, "SWIM: Scalable Weakly-consistent Infection-style Process Group
/// Membership Protocol", DSN 2002) with Lifeguard's refinements (Dadgar, Phillips, Currey, DSN-W 2018) and memberlist's
/// push-pull anti-entropy, as a deterministic state machine: no I/O, no threads, no clock, no shared randomness. The
/// host feeds it time (<see cref="Tick"/>) and messages (<see cref="Receive"/>), and drains messages to send and view
/// changes with <see cref="GetReady"/>. Not thread-safe: call from one thread (a grain turn) at a time.
/// </summary>
public sealed partial class SwimNode
{
    // _states holds state + 1, so 0 means "never heard of".
    private const byte Unknown = 0;

    private readonly SwimOptions _options;
    private readonly Random _random;
    private readonly MemberDirectory _directory;
    private readonly int _selfSlot;
    private readonly BroadcastQueue _broadcasts = new();
    private readonly Dictionary<int, Suspicion> _suspicions = [];
    private readonly Dictionary<int, TimeSpan> _changedAt = [];
    private readonly List<SwimMessage> _messages = [];
    private readonly List<MembershipEvent> _events = [];
    private readonly List<int> _stale = [];
    private int[] _incarnations = [];
    private byte[] _states = [];
    private int[] _probeOrder = [];
    private int _probeCount;
    private int _probeIndex;
    private int _liveOthers;
    private int _incarnation;
    private int _localHealth;
    private long _sequence;
    private TimeSpan _now;
    private TimeSpan _nextProbe;
    private TimeSpan _nextGossip;
    private TimeSpan _nextPushPull;
    private TimeSpan _nextSuspicionDeadline = TimeSpan.MaxValue;
    private TimeSpan _lastActive;
    private TimeSpan _expectedWake;

    /// <summary>
    /// Starts a member that knows only itself, alive at <paramref name="incarnation"/> (pass a higher one than before
    /// when restarting, so the cluster takes the new life over the old death). The first probe, gossip and push-pull
    /// are staggered randomly within their intervals, as memberlist does, so members started together do not probe in
    /// lockstep. A <paramref name="directory"/> may be shared by simulated members (see <see cref="MemberDirectory"/>).
    /// </summary>
    public SwimNode(Member self, SwimOptions options, Random random, TimeSpan now, MemberDirectory? directory = null, int incarnation = 0)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(incarnation);
        options.Validate();
        _options = options;
        _random = random;
        _directory = directory ?? new MemberDirectory();
        _incarnation = incarnation;
        _selfSlot = _directory.SlotOf(self, incarnation);
        _directory.Record(_selfSlot, incarnation, self);
        Self = self;
        EnsureCapacity(_selfSlot);
        SetStatus(_selfSlot, new MemberStatus(incarnation, MemberState.Alive));
        _now = now;
        _lastActive = now;
        _nextProbe = now + (options.ProbeInterval * random.NextDouble());
        _nextGossip = now + (options.GossipInterval * random.NextDouble());
        _nextPushPull = now + (PushPullInterval * random.NextDouble());
        Broadcast(_selfSlot, new MemberUpdate(self, incarnation, MemberState.Alive));
        _expectedWake = NextDeadline;
    }

    public Member Self { get; private set; }

    public string Name => Self.Name;

    /// <summary>This member's incarnation; it only grows, each time the member refutes a suspicion or changes its metadata.</summary>
    public int Incarnation => _incarnation;

    /// <summary>Lifeguard's local health multiplier, 0 (healthy) to <see cref="SwimOptions.MaxLocalHealth"/> - 1; always 0 without Lifeguard.</summary>
    public int LocalHealth => _localHealth;

    /// <summary>Members this node believes alive or suspect, itself included: its estimate of N.</summary>
    public int LiveMembers => _liveOthers + 1;

    /// <summary>Updates still waiting to be piggy-backed.</summary>
    public int PendingBroadcasts => _broadcasts.Count;

    public TimeSpan Now => _now;

    /// <summary>The earliest time at which <see cref="Tick"/> has work to do; the host sets one timer for it.</summary>
    public TimeSpan NextDeadline
    {
        get
        {
            var next = Min(Min(_nextProbe, _nextGossip), Min(_nextPushPull, _nextSuspicionDeadline));
            if (_probe.Active)
            {
                next = Min(next, _probe.Indirect ? _probe.Deadline : _probe.IndirectAt);
            }

            foreach (var relay in _relays)
            {
                next = Min(next, relay.NackPending ? relay.NackAt : relay.ExpiresAt);
            }

            return next;
        }
    }

    /// <summary>What this node believes about <paramref name="name"/>; null if it never heard of it.</summary>
    public MemberStatus? StatusOf(string name) =>
        _directory.TryGetSlot(name, out var slot) && slot < _states.Length && _states[slot] != Unknown ? Status(slot) : null;

    /// <summary>An immutable snapshot of this node's view, for inspection and publication (O(N): not for every turn).</summary>
    public MembershipView View()
    {
        var entries = new List<MemberEntry>(_liveOthers + 1);
        for (var slot = 0; slot < _states.Length; slot++)
        {
            if (_states[slot] != Unknown)
            {
                var status = Status(slot);
                entries.Add(new MemberEntry(_directory.MemberAt(slot, status.Incarnation), status, _changedAt.GetValueOrDefault(slot)));
            }
        }

        return MembershipView.Of(entries);
    }

    /// <summary>
    /// Adds members known to be alive at incarnation 0 without announcing them: the starting view of a simulation or a
    /// test, in place of a join storm. Members already known are left as they are.
    /// </summary>
    public void Bootstrap(IEnumerable<Member> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.TryGetNonEnumeratedCount(out var count) && _probeOrder.Length < _probeCount + count)
        {
            Array.Resize(ref _probeOrder, _probeCount + count);
        }

        foreach (var member in members)
        {
            var slot = _directory.SlotOf(member, 0);
            EnsureCapacity(slot);
            if (_states[slot] == Unknown)
            {
                _directory.Record(slot, 0, member);
                AddKnown(slot, new MemberStatus(0, MemberState.Alive));
            }
        }
    }

    /// <summary>Joins through <paramref name="seeds"/> (member names): a push-pull with each, which answers with its whole view.</summary>
    public void Join(IEnumerable<string> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        foreach (var seed in seeds.Where(s => s != Name).Distinct(StringComparer.Ordinal))
        {
            _messages.Add(new PushPull(Name, seed, FullState(), IsReply: false, Join: true));
        }
    }

    /// <summary>Announces new metadata under a new incarnation, which overrides the old everywhere it spreads.</summary>
    public void UpdateMetadata(Member self)
    {
        ArgumentNullException.ThrowIfNull(self);
        if (self.Name != Name)
        {
            throw new ArgumentException($"a member can only update its own metadata: {self.Name} is not {Name}", nameof(self));
        }

        Self = self;
        AnnounceAlive(_incarnation + 1);
    }

    /// <summary>Feeds one message from another member.</summary>
    public void Receive(SwimMessage message, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To != Name || message.From == Name || HasLeft)
        {
            return;
        }

        Advance(now);
        foreach (var update in message.Updates)
        {
            if (Apply(update.Member, update.Status, update.From ?? message.From, update, raisedHere: false) is var stale and >= 0
                && !_stale.Contains(stale))
            {
                _stale.Add(stale);
            }
        }

        if (_stale.Count > 0)
        {
            Correct(message.From, _stale);
        }

        switch (message)
        {
            case Ping ping:
                Send(new Ack(Name, ping.From, ping.Sequence) { Updates = Piggyback() });
                break;
            case PingReq request:
                Relay(request);
                break;
            case Ack ack:
                HandleAck(ack);
                break;
            case Nack nack:
                HandleNack(nack);
                break;
            case PushPull pushPull:
                HandlePushPull(pushPull);
                break;
        }

        Rest();
    }

    /// <summary>
    /// Moves the clock to <paramref name="now"/> and fires what is due: the end of a probe, the next probe, nacks of
    /// relayed probes, expired suspicions, a gossip round and a push-pull. Time never goes back.
    /// </summary>
    public void Tick(TimeSpan now)
    {
        if (HasLeft)
        {
            return;
        }

        // Lifeguard §IV-A: a member that wakes up long after it should have (its last deadline, or its last activity
        // if a message moved that deadline into the past) was paused: GC, CPU starvation. Its timers say nothing about
        // its peers then, as the answers are likely sitting unread. It counts the miss against its own health and gives
        // the backlog a probe timeout to be read before it concludes anything.
        var late = now - (_expectedWake > _lastActive ? _expectedWake : _lastActive);
        Advance(now);
        var stalled = _options.Lifeguard && late > _options.ProbeTimeout;
        if (stalled)
        {
            AdjustHealth(+1);
        }

        ProbeTick(stalled);
        RelayTick();
        SuspicionTick(stalled);
        GossipTick();
        PushPullTick();
        Rest();
    }

    /// <summary>Notes when this node was last active and when it expects to be woken next, to tell a pause from idleness.</summary>
    private void Rest()
    {
        _lastActive = _now;
        _expectedWake = NextDeadline;
    }

    public bool HasReady => _messages.Count > 0 || _events.Count > 0;

    /// <summary>Takes the messages to send and the view changes since the last call.</summary>
    public SwimReady GetReady()
    {
        var ready = new SwimReady(_messages.Count == 0 ? [] : [.. _messages], _events.Count == 0 ? [] : [.. _events]);
        _messages.Clear();
        _events.Clear();
        return ready;
    }

    /// <summary>The same as <see cref="GetReady"/> into the caller's lists, for hosts that drive many nodes.</summary>
    public void DrainReady(List<SwimMessage> messages, List<MembershipEvent> events)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(events);
        messages.AddRange(_messages);
        events.AddRange(_events);
        _messages.Clear();
        _events.Clear();
    }

    private void Advance(TimeSpan now)
    {
        if (now > _now)
        {
            _now = now;
        }
    }

    private void Send(SwimMessage message) => _messages.Add(message);

    private MemberStatus Status(int slot) => new(_incarnations[slot], (MemberState)(_states[slot] - 1));

    private bool IsLive(int slot) => _states[slot] is not Unknown and not (byte)(MemberState.Dead + 1);

    private void SetStatus(int slot, MemberStatus status)
    {
        _incarnations[slot] = status.Incarnation;
        _states[slot] = (byte)(status.State + 1);
    }

    private void EnsureCapacity(int slot)
    {
        if (slot >= _states.Length)
        {
            var size = Math.Max(slot + 1, Math.Max(_directory.Count, _states.Length * 2));
            Array.Resize(ref _states, size);
            Array.Resize(ref _incarnations, size);
        }
    }

    private void AdjustHealth(int delta)
    {
        if (_options.Lifeguard)
        {
            _localHealth = Math.Clamp(_localHealth + delta, 0, _options.MaxLocalHealth - 1);
        }
    }

    /// <summary>Lifeguard §IV-A: probe interval and timeout are multiplied by LHM + 1.</summary>
    private TimeSpan Scaled(TimeSpan value) => value * (_localHealth + 1);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
