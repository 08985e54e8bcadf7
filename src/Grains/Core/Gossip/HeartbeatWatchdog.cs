using System.IO.Hashing;
using System.Text;

namespace Orleans.Patterns.Gossip;

/// <summary>Tuning of a <see cref="HeartbeatWatchdog"/>.</summary>
public sealed record HeartbeatWatchdogOptions
{
    /// <summary>
    /// Peers each member watches: its successors on a ring over member names. A constant, so each member's load stays
    /// the same as the cluster grows, and every member is watched by this many others (Orleans' own probes watch
    /// <c>NumProbedSilos</c> = 3 the same way).
    /// </summary>
    public int WatchedPeers { get; init; } = 3;

    /// <summary>How often the watchdog asks each watched peer for a heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The detector behind each watched peer.</summary>
    public PhiAccrualOptions Detector { get; init; } = new();

    /// <summary>Throws naming the first option that is out of range, with its value.</summary>
    public void Validate()
    {
        if (WatchedPeers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(WatchedPeers), WatchedPeers, $"{nameof(WatchedPeers)} must be at least 1; got {WatchedPeers}");
        }

        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatInterval), HeartbeatInterval, $"{nameof(HeartbeatInterval)} must be positive; got {HeartbeatInterval}");
        }

        ArgumentNullException.ThrowIfNull(Detector, nameof(Detector));
        Detector.Validate();
    }
}

/// <summary>What the watchdog concluded about a peer.</summary>
public enum WatchdogVerdict
{
    /// <summary>Phi crossed the threshold: report the peer as suspect to gossip, move its shards, mark its replica unreachable.</summary>
    Convicted,

    /// <summary>A convicted peer sent a heartbeat again.</summary>
    Readmitted,
}

/// <summary>A verdict for the host to act on.</summary>
public readonly record struct WatchdogEvent(string Peer, WatchdogVerdict Verdict, double Phi, TimeSpan At);

/// <summary>One watched peer as the <c>health</c> command shows it.</summary>
public readonly record struct WatchedPeer(string Peer, double Phi, bool Convicted, TimeSpan? LastHeartbeat);

/// <summary>
/// One member's heartbeat watchdog: it watches the <see cref="HeartbeatWatchdogOptions.WatchedPeers"/> members that
/// follow it on a ring of member-name hashes, asks them for heartbeats, keeps a <see cref="PhiAccrualDetector"/> per
/// peer, convicts a peer when phi reaches the threshold and re-admits it when it answers again. Pure: the host passes
/// time, membership and heartbeats in and takes requests and verdicts out. Not thread-safe.
/// </summary>
public sealed class HeartbeatWatchdog
{
    private readonly HeartbeatWatchdogOptions _options;
    private readonly Dictionary<string, PeerState> _peers = new(StringComparer.Ordinal);
    private readonly List<WatchdogEvent> _events = [];
    private readonly List<string> _requests = [];
    private TimeSpan _nextRequest;

    public HeartbeatWatchdog(string self, HeartbeatWatchdogOptions options, TimeSpan now)
    {
        ArgumentException.ThrowIfNullOrEmpty(self);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Self = self;
        _options = options;
        _nextRequest = now;
    }

    public string Self { get; }

    /// <summary>The peers watched now, in ring order.</summary>
    public IReadOnlyList<string> Watched { get; private set; } = [];

    /// <summary>The earliest time at which <see cref="Tick"/> has work to do.</summary>
    public TimeSpan NextDeadline => _nextRequest;

    /// <summary>
    /// The <paramref name="count"/> members after <paramref name="self"/> on a ring ordered by a 64-bit hash of the
    /// name (ties by name), skipping <paramref name="self"/>. Every member computes the same ring from the same names,
    /// so each is watched by about <paramref name="count"/> others, and a join or leave only changes the watchers of
    /// its ring neighbours.
    /// </summary>
    public static IReadOnlyList<string> ChooseWatched(string self, IEnumerable<string> members, int count)
    {
        var ring = members.Append(self).Distinct(StringComparer.Ordinal)
            .Select(name => (Hash: RingPosition(name), Name: name))
            .OrderBy(p => p.Hash).ThenBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
        var start = ring.FindIndex(p => p.Name == self);
        var watched = new List<string>(Math.Min(count, ring.Count - 1));
        for (var step = 1; step < ring.Count && watched.Count < count; step++)
        {
            watched.Add(ring[(start + step) % ring.Count].Name);
        }

        return watched;
    }

    internal static ulong RingPosition(string name) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(name));

    /// <summary>
    /// The cluster's members changed (from gossip or Orleans membership). Peers still watched keep their history; a
    /// newly watched peer starts a fresh detector, armed from <paramref name="now"/> as if it had just answered.
    /// </summary>
    public void SetMembers(IEnumerable<string> members, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(members);
        Watched = ChooseWatched(Self, members, _options.WatchedPeers);
        foreach (var gone in _peers.Keys.Where(p => !Watched.Contains(p, StringComparer.Ordinal)).ToList())
        {
            _peers.Remove(gone);
        }

        foreach (var peer in Watched)
        {
            if (!_peers.ContainsKey(peer))
            {
                var state = new PeerState(new PhiAccrualDetector(_options.Detector));
                state.Detector.Heartbeat(now);
                _peers.Add(peer, state);
            }
        }
    }

    /// <summary>A heartbeat (or the answer to a heartbeat request) from <paramref name="peer"/>; ignored if not watched.</summary>
    public void Heartbeat(string peer, TimeSpan now)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }

        if (state.Convicted)
        {
            // The silence that convicted the peer was an outage, not a sample of how its heartbeats arrive: kept in the
            // window it would widen the learned spread, and the next outage would take seconds longer to convict. A
            // re-admitted peer starts a fresh history, armed from this heartbeat.
            state.Detector = new PhiAccrualDetector(_options.Detector);
            state.Detector.Heartbeat(now);
            state.Convicted = false;
            _events.Add(new WatchdogEvent(peer, WatchdogVerdict.Readmitted, state.Detector.Phi(now), now));
            return;
        }

        state.Detector.Heartbeat(now);
    }

    /// <summary>Checks every watched peer's phi, and asks for heartbeats when the interval has passed.</summary>
    public void Tick(TimeSpan now)
    {
        foreach (var peer in Watched)
        {
            var state = _peers[peer];
            var phi = state.Detector.Phi(now);
            if (!state.Convicted && phi >= _options.Detector.Threshold)
            {
                state.Convicted = true;
                _events.Add(new WatchdogEvent(peer, WatchdogVerdict.Convicted, phi, now));
            }
        }

        if (now >= _nextRequest)
        {
            _requests.AddRange(Watched);
            _nextRequest = now + _options.HeartbeatInterval;
        }
    }

    /// <summary>Phi of each watched peer at <paramref name="now"/>.</summary>
    public IReadOnlyList<WatchedPeer> Status(TimeSpan now) =>
        [.. Watched.Select(p => new WatchedPeer(p, _peers[p].Detector.Phi(now), _peers[p].Convicted, _peers[p].Detector.LastHeartbeat))];

    /// <summary>Peers to ask for a heartbeat since the last call.</summary>
    public IReadOnlyList<string> TakeHeartbeatRequests() => Take(_requests);

    /// <summary>Convictions and re-admissions since the last call, in order.</summary>
    public IReadOnlyList<WatchdogEvent> TakeEvents() => Take(_events);

    private static IReadOnlyList<T> Take<T>(List<T> list)
    {
        if (list.Count == 0)
        {
            return [];
        }

        var taken = list.ToArray();
        list.Clear();
        return taken;
    }

    private sealed class PeerState(PhiAccrualDetector detector)
    {
        public PhiAccrualDetector Detector { get; set; } = detector;

        public bool Convicted { get; set; }
    }
}
