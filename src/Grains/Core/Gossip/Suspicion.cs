namespace Orleans.Patterns.Gossip;

/// <summary>
/// One suspicion's timer under Lifeguard's local health aware suspicion (Dadgar et al. 2018, §IV-B): it starts at
/// <c>max</c> and shrinks toward <c>min</c> as independent members confirm it,
/// timeout(C) = max(min, max - (max - min) · log(C + 1) / log(K + 1)), K the confirmations expected. A suspicion raised
/// by a member that is itself slow gets no confirmations and so gives its target the longest time to refute. With
/// <c>min == max</c> it is plain SWIM's fixed timeout.
/// </summary>
internal sealed class Suspicion
{
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private readonly int _expected;
    private readonly string _raisedBy;
    private HashSet<string>? _confirmers;

    public Suspicion(int incarnation, string raisedBy, TimeSpan start, TimeSpan min, TimeSpan max, int expected)
    {
        Incarnation = incarnation;
        _raisedBy = raisedBy;
        Start = start;
        _min = min;
        _max = max;
        _expected = expected;
        Deadline = start + Timeout(0);
    }

    public int Incarnation { get; }

    public TimeSpan Start { get; }

    public TimeSpan Deadline { get; private set; }

    public int Confirmations => _confirmers?.Count ?? 0;

    /// <summary>The suspect was pinged once more, a probe timeout before the end (see <c>SwimNode.SuspicionTick</c>).</summary>
    public bool LastCallSent { get; set; }

    /// <summary>When the suspicion next needs attention: its last call, or its end.</summary>
    public TimeSpan NextAction(TimeSpan lastCallLead) => LastCallSent ? Deadline : Deadline - lastCallLead;

    /// <summary>Counts <paramref name="from"/> once; false if it raised the suspicion, already confirmed, or enough have.</summary>
    public bool Confirm(string from)
    {
        if (Confirmations >= _expected || from == _raisedBy || !(_confirmers ??= new(StringComparer.Ordinal)).Add(from))
        {
            return false;
        }

        Deadline = Start + Timeout(Confirmations);
        return true;
    }

    internal TimeSpan Timeout(int confirmations)
    {
        if (_expected < 1 || _max <= _min)
        {
            return _min;
        }

        var fraction = Math.Log(confirmations + 1) / Math.Log(_expected + 1);
        var raw = _max - ((_max - _min) * fraction);
        var timeout = TimeSpan.FromMilliseconds(Math.Floor(raw.TotalMilliseconds));
        return timeout < _min ? _min : timeout;
    }
}
