namespace Orleans.Patterns.Raft;

/// <summary>
/// Times appends per peer, from when entries leave (or arrive) to the first answer that covers them: each open append
/// is its last index and its start, and an answer whose match index reaches that index closes it. A resend of
/// entries already open keeps its first start, so a retry counts from the first attempt. Single-threaded: a replica
/// calls it from its own turns only.
/// </summary>
internal sealed class AppendTimer(TimeProvider time, int capacityPerPeer = 64)
{
    private readonly Dictionary<string, Queue<(long Index, long Started)>> _open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastStarted = new(StringComparer.Ordinal);

    /// <summary>Entries through <paramref name="lastIndex"/> left for (or arrived from) <paramref name="peer"/> now.</summary>
    public void Start(string peer, long lastIndex)
    {
        if (_lastStarted.TryGetValue(peer, out var last) && lastIndex <= last)
        {
            return;
        }

        if (!_open.TryGetValue(peer, out var open))
        {
            _open[peer] = open = new Queue<(long, long)>();
        }

        if (open.Count == capacityPerPeer)
        {
            open.Dequeue(); // never answered (a lost message the next append repeats): not a measurement
        }

        open.Enqueue((lastIndex, time.GetTimestamp()));
        _lastStarted[peer] = lastIndex;
    }

    /// <summary>
    /// <paramref name="peer"/> acknowledged entries through <paramref name="matchIndex"/>: closes every open append
    /// it covers and hands each one's elapsed time to <paramref name="record"/>.
    /// </summary>
    public void Covered<TState>(string peer, long matchIndex, TState state, Action<TState, TimeSpan> record)
    {
        if (!_open.TryGetValue(peer, out var open))
        {
            return;
        }

        while (open.TryPeek(out var append) && append.Index <= matchIndex)
        {
            open.Dequeue();
            record(state, time.GetElapsedTime(append.Started));
        }
    }

    /// <summary>Forgets every open append: the log they belonged to may be cut (a new term, a new leader).</summary>
    public void Clear()
    {
        _open.Clear();
        _lastStarted.Clear();
    }
}
