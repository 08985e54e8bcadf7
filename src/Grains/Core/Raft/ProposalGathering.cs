namespace Orleans.Patterns.Raft;

/// <summary>
/// Decides when the leader proposes the batches that several fronts send it, so that the fronts share one Raft round
/// instead of each making its own. A front (a client's write batcher, one per silo endpoint) keeps one batch in flight
/// and sends its next only after its last is answered; three fronts left alone reach the leader at three different
/// moments and cost three rounds (three appends to every follower, three disk syncs on each replica) where one would
/// carry all their writes. So the leader runs one gathering cycle for all of them, as each front's batcher does for its
/// own writers:
/// <list type="bullet">
/// <item>With no round out, a batch is proposed at once: a lone front pays no wait.</item>
/// <item>While a round is out, batches are held.</item>
/// <item>When the round settles (its entries applied, or failed), the fronts whose batches it carried are answered and
/// come back with their next batches. The held batches wait for them, up to <see cref="MaxWait"/>, and then go as one
/// round with whatever came meanwhile.</item>
/// <item>A front that was waited for and did not come back in time (an open load, or a client that wrote once) is not
/// waited for again until it comes back within the wait after one of its rounds: it costs the others one
/// <see cref="MaxWait"/>, not one per round.</item>
/// </list>
/// Plain logic, no clock of its own: the host passes the time, calls <see cref="Tick"/> at <see cref="Deadline"/>, and
/// proposes each batch list this returns as one round.
/// </summary>
/// <typeparam name="T">A held batch, as the host proposes it.</typeparam>
public sealed class ProposalGathering<T>
{
    // Past this many, the fronts known to miss are forgotten: a forgotten one costs one more wait, never correctness.
    private const int MaxRemembered = 4096;

    private readonly List<T> _held = [];
    private HashSet<string> _heldOrigins = new(StringComparer.Ordinal);
    private HashSet<string> _roundOrigins = new(StringComparer.Ordinal);
    private readonly HashSet<string> _expected = new(StringComparer.Ordinal);

    // Fronts that were waited for and did not come back in time, each with when the last round that carried it settled
    // since (null: none yet). One that comes back within the wait after such a round is waited for again.
    private readonly Dictionary<string, TimeSpan?> _late = new(StringComparer.Ordinal);
    private bool _roundOut;

    /// <param name="maxWait">How long held batches wait, after a round settles, for the fronts it carried; positive.</param>
    public ProposalGathering(TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxWait, TimeSpan.Zero);
        MaxWait = maxWait;
    }

    /// <summary>How long held batches wait, after a round settles, for the fronts it carried.</summary>
    public TimeSpan MaxWait { get; }

    /// <summary>Whether a round released here is proposed and not yet settled.</summary>
    public bool RoundOut => _roundOut;

    /// <summary>Batches held now.</summary>
    public int Held => _held.Count;

    /// <summary>When <see cref="Tick"/> must be called while gathering after a settled round; null: no wait is running.</summary>
    public TimeSpan? Deadline { get; private set; }

    /// <summary>Rounds released so far, and the batches they carried: their ratio is the mean number of batches a round merged.</summary>
    public (long Rounds, long Batches) Released { get; private set; }

    /// <summary>
    /// A batch from <paramref name="origin"/> (the front that sent it; null: an anonymous caller, never waited for)
    /// arrives at <paramref name="now"/>. Returns the batches to propose now as one round, this one among them, or an
    /// empty list when it is held.
    /// </summary>
    public IReadOnlyList<T> Offer(string? origin, T batch, TimeSpan now)
    {
        _held.Add(batch);
        if (origin is not null)
        {
            _heldOrigins.Add(origin);
            if (_late.TryGetValue(origin, out var answered) && answered is { } settled && now - settled <= MaxWait)
            {
                _late.Remove(origin); // back in time after its round: prompt again
            }
        }

        if (_roundOut)
        {
            return [];
        }

        if (Deadline is { } deadline)
        {
            if (now >= deadline)
            {
                return Tick(now); // the wait is over even if its timer has not run yet
            }

            if (!_expected.IsSubsetOf(_heldOrigins))
            {
                return [];
            }
        }

        return Release();
    }

    /// <summary>
    /// The round released last has settled at <paramref name="now"/>: its writes were applied (or failed, and their
    /// fronts will retry). Returns the batches to propose now as the next round, or an empty list while gathering
    /// waits for the fronts the settled round carried (until <see cref="Deadline"/>).
    /// </summary>
    public IReadOnlyList<T> RoundSettled(TimeSpan now)
    {
        if (!_roundOut)
        {
            throw new InvalidOperationException("No round is out to settle.");
        }

        _roundOut = false;
        _expected.Clear();
        foreach (var origin in _roundOrigins)
        {
            if (_late.ContainsKey(origin))
            {
                _late[origin] = now;
            }
            else
            {
                _expected.Add(origin);
            }
        }

        if (_expected.Count == 0 || _expected.IsSubsetOf(_heldOrigins))
        {
            return _held.Count > 0 ? Release() : Idle();
        }

        Deadline = now + MaxWait;
        return [];
    }

    /// <summary>
    /// The clock, at or after <see cref="Deadline"/>: the fronts still awaited are late; the held batches go now as one
    /// round (an empty list when none is held). Before the deadline, or with no wait running, nothing changes.
    /// </summary>
    public IReadOnlyList<T> Tick(TimeSpan now)
    {
        if (_roundOut || Deadline is not { } deadline || now < deadline)
        {
            return [];
        }

        foreach (var origin in _expected)
        {
            if (!_heldOrigins.Contains(origin))
            {
                if (_late.Count >= MaxRemembered)
                {
                    _late.Clear();
                }

                _late[origin] = null;
            }
        }

        return _held.Count > 0 ? Release() : Idle();
    }

    /// <summary>
    /// Everything held, for the host to refuse (leadership lost, or the replica stopping), and back to the start: no
    /// round out, nothing awaited. Whatever was released before is the host's to settle.
    /// </summary>
    public IReadOnlyList<T> Reset()
    {
        var held = _held.ToArray();
        _held.Clear();
        _heldOrigins.Clear();
        _roundOrigins.Clear();
        _roundOut = false;
        Idle();
        return held;
    }

    private T[] Release()
    {
        var round = _held.ToArray();
        _held.Clear();
        (_roundOrigins, _heldOrigins) = (_heldOrigins, _roundOrigins);
        _heldOrigins.Clear();
        _roundOut = true;
        Idle();
        Released = (Released.Rounds + 1, Released.Batches + round.Length);
        return round;
    }

    private T[] Idle()
    {
        Deadline = null;
        _expected.Clear();
        return [];
    }
}
