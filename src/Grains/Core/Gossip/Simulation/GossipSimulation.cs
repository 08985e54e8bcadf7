namespace Orleans.Patterns.Gossip.Simulation;

/// <summary>One simulated member: its node and the faults it is under.</summary>
public sealed class SimulatedMember
{
    internal SimulatedMember(int index, SwimNode node)
    {
        Index = index;
        Node = node;
    }

    public int Index { get; }

    public SwimNode Node { get; }

    public string Name => Node.Name;

    public bool Crashed { get; internal set; }

    /// <summary>While the clock is before this, the member neither sends nor reads; messages wait in its backlog.</summary>
    public TimeSpan StalledUntil { get; internal set; }

    /// <summary>
    /// Extra time before each message this member receives is read, while its timers keep time: a member starved of
    /// CPU, the anomaly of Lifeguard's experiments (§V). Zero for a healthy member.
    /// </summary>
    public TimeSpan ProcessingLag { get; set; }

    internal Queue<SwimMessage> Backlog { get; } = new();

    internal long TickGeneration { get; set; }

    internal TimeSpan TickAt { get; set; } = TimeSpan.MaxValue;
}

/// <summary>
/// A deterministic discrete-event simulation of a SWIM group: one seeded <see cref="Random"/> decides every loss and
/// delay, each member draws its protocol randomness from its own seeded <see cref="Random"/>, and a logical clock
/// replaces time, so a seed replays a run exactly. Members may crash (they stop for good), stall (a GC pause: a
/// stalled member neither sends nor reads, its timers wait, and when it resumes it first runs its overdue timers and
/// then reads its backlog) or run slow (CPU starvation, the anomaly of Lifeguard's experiments, §V: every message is
/// read late while timers keep time).
/// </summary>
/// <remarks>
/// Built for 10,000 members: all members share one <see cref="MemberDirectory"/>, so a view costs 5 bytes per member;
/// events sit in one priority queue ordered by (time, sequence); a member has at most one live timer event, and a
/// stale one is skipped by generation rather than removed.
/// </remarks>
public sealed class GossipSimulation
{
    private readonly PriorityQueue<SimEvent, (long Ticks, long Seq)> _queue = new();
    private readonly Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);
    private readonly List<SwimMessage> _outgoing = [];
    private readonly List<MembershipEvent> _changes = [];
    private readonly long[] _sentByKind = new long[Enum.GetValues<SwimMessageKind>().Length];
    private long _seq;

    public GossipSimulation(int members, int seed, SwimOptions options, GossipNetwork network)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(network);
        options.Validate();
        network.Validate();
        Random = new Random(seed);
        Network = network;
        Options = options;
        var directory = new MemberDirectory();
        var all = new Member[members];
        for (var i = 0; i < members; i++)
        {
            all[i] = new Member(NameOf(i), $"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}:11111");
        }

        var list = new SimulatedMember[members];
        for (var i = 0; i < members; i++)
        {
            var node = new SwimNode(all[i], options, new Random(MemberSeed(seed, i)), TimeSpan.Zero, directory);
            node.Bootstrap(all);
            list[i] = new SimulatedMember(i, node);
            _indexOf.Add(all[i].Name, i);
        }

        Members = list;
        foreach (var member in Members)
        {
            Flush(member);
        }
    }

    public Random Random { get; }

    public GossipNetwork Network { get; set; }

    public SwimOptions Options { get; }

    public IReadOnlyList<SimulatedMember> Members { get; }

    public TimeSpan Now { get; private set; }

    /// <summary>Called for every change in any member's view, in simulated-time order.</summary>
    public Action<SimulatedMember, MembershipEvent>? OnChange { get; set; }

    /// <summary>Called for every message a member sends (before loss), for counting.</summary>
    public Action<SimulatedMember, SwimMessage>? OnSend { get; set; }

    public long MessagesSent { get; private set; }

    public long MessagesLost { get; private set; }

    public long UpdatesSent { get; private set; }

    public long EventsProcessed { get; private set; }

    public long SentOf(SwimMessageKind kind) => _sentByKind[(int)kind];

    public static string NameOf(int index) => $"m{index:D5}";

    /// <summary>A member's own seed, mixed from the run's (SplitMix64's finaliser); HashCode would differ per process.</summary>
    private static int MemberSeed(int seed, int index)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    public SimulatedMember this[string name] => Members[_indexOf[name]];

    /// <summary>Stops <paramref name="member"/> for good (no graceful leave): others must detect it.</summary>
    public void Crash(SimulatedMember member)
    {
        member.Crashed = true;
        member.Backlog.Clear();
    }

    /// <summary>Freezes <paramref name="member"/> for <paramref name="duration"/> from now.</summary>
    public void Stall(SimulatedMember member, TimeSpan duration)
    {
        var until = Now + duration;
        if (until > member.StalledUntil)
        {
            member.StalledUntil = until;
            Schedule(until, new SimEvent(EventKind.Resume, member.Index, null, 0, null));
        }
    }

    /// <summary>Runs <paramref name="action"/> at simulated time <paramref name="at"/>.</summary>
    public void At(TimeSpan at, Action action) => Schedule(at, new SimEvent(EventKind.Action, -1, null, 0, action));

    public void RunFor(TimeSpan duration) => RunUntil(Now + duration);

    public void RunUntil(TimeSpan end)
    {
        while (_queue.TryPeek(out _, out var priority) && priority.Ticks <= end.Ticks)
        {
            var next = _queue.Dequeue();
            Now = TimeSpan.FromTicks(priority.Ticks);
            EventsProcessed++;
            Process(next);
        }

        Now = end;
    }

    /// <summary>Runs until <paramref name="condition"/> holds (checked after each event) or <paramref name="deadline"/>; true if it held.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (!condition())
        {
            if (!_queue.TryPeek(out _, out var priority) || priority.Ticks > deadline.Ticks)
            {
                Now = deadline;
                return condition();
            }

            var next = _queue.Dequeue();
            Now = TimeSpan.FromTicks(priority.Ticks);
            EventsProcessed++;
            Process(next);
        }

        return true;
    }

    private void Process(SimEvent e)
    {
        switch (e.Kind)
        {
            case EventKind.Action:
                e.Action!();
                return;
            case EventKind.Deliver:
                var receiver = Members[e.Member];
                if (receiver.ProcessingLag > TimeSpan.Zero && e.Generation == 0)
                {
                    Schedule(Now + receiver.ProcessingLag, e with { Generation = 1 });
                    return;
                }

                Deliver(receiver, e.Message!);
                return;
            case EventKind.Tick:
                var member = Members[e.Member];
                if (e.Generation != member.TickGeneration || member.Crashed)
                {
                    return;
                }

                member.TickAt = TimeSpan.MaxValue;
                if (Now < member.StalledUntil)
                {
                    return;
                }

                member.Node.Tick(Now);
                Flush(member);
                return;
            case EventKind.Resume:
                Resume(Members[e.Member]);
                return;
        }
    }

    private void Deliver(SimulatedMember member, SwimMessage message)
    {
        if (member.Crashed)
        {
            return;
        }

        if (Now < member.StalledUntil)
        {
            member.Backlog.Enqueue(message);
            return;
        }

        member.Node.Receive(message, Now);
        Flush(member);
    }

    private void Resume(SimulatedMember member)
    {
        if (member.Crashed || Now < member.StalledUntil)
        {
            return;
        }

        // Overdue timers fire first, then the backlog is read, in arrival order: what a paused process does on waking.
        member.Node.Tick(Now);
        while (member.Backlog.TryDequeue(out var message))
        {
            member.Node.Receive(message, Now);
        }

        member.TickAt = TimeSpan.MaxValue;
        Flush(member);
    }

    /// <summary>Sends what the member produced, reports its view changes, and keeps one timer event at its next deadline.</summary>
    private void Flush(SimulatedMember member)
    {
        member.Node.DrainReady(_outgoing, _changes);
        foreach (var change in _changes)
        {
            OnChange?.Invoke(member, change);
        }

        foreach (var message in _outgoing)
        {
            Send(member, message);
        }

        _outgoing.Clear();
        _changes.Clear();
        var next = member.Node.NextDeadline;
        if (next < member.TickAt)
        {
            member.TickAt = next;
            member.TickGeneration++;
            Schedule(next < Now ? Now : next, new SimEvent(EventKind.Tick, member.Index, null, member.TickGeneration, null));
        }
    }

    private void Send(SimulatedMember from, SwimMessage message)
    {
        MessagesSent++;
        UpdatesSent += message.Updates.Count;
        _sentByKind[(int)KindOf(message)]++;
        OnSend?.Invoke(from, message);
        if (Network.Loss > 0 && Random.NextDouble() < Network.Loss)
        {
            MessagesLost++;
            return;
        }

        if (_indexOf.TryGetValue(message.To, out var to))
        {
            Schedule(Now + Network.NextLatency(Random), new SimEvent(EventKind.Deliver, to, message, 0, null));
        }
    }

    public static SwimMessageKind KindOf(SwimMessage message) => message switch
    {
        Ping => SwimMessageKind.Ping,
        Ack => SwimMessageKind.Ack,
        PingReq => SwimMessageKind.PingReq,
        Nack => SwimMessageKind.Nack,
        GossipPush => SwimMessageKind.Gossip,
        _ => SwimMessageKind.PushPull,
    };

    private void Schedule(TimeSpan at, SimEvent e) => _queue.Enqueue(e, (at.Ticks, _seq++));

    private enum EventKind : byte
    {
        Deliver,
        Tick,
        Resume,
        Action,
    }

    private readonly record struct SimEvent(EventKind Kind, int Member, SwimMessage? Message, long Generation, Action? Action);
}

/// <summary>Message kinds, for counting.</summary>
public enum SwimMessageKind
{
    Ping,
    Ack,
    PingReq,
    Nack,
    Gossip,
    PushPull,
}
