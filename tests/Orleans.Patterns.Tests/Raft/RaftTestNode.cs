using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Builds single replicas and drives them by hand, for exact unit tests of the protocol rules.</summary>
internal static class RaftTestNode
{
    public static readonly NodeId N1 = new("n1");
    public static readonly NodeId N2 = new("n2");
    public static readonly NodeId N3 = new("n3");
    public static readonly ClusterConfig Three = new([N1, N2, N3], []);
    public static readonly RaftOptions Plain = new() { PreVote = false, CheckQuorum = false };

    /// <summary>A replica whose disk holds entries of the given terms (index 1, 2, …) and the given hard state.</summary>
    public static RaftNode Create(NodeId id, RaftOptions? options = null, long term = 0, long[]? logTerms = null, NodeId? votedFor = null, long commit = 0)
    {
        var entries = (logTerms ?? []).Select((t, i) => new LogEntry(i + 1, t, EntryKind.Command, new byte[] { (byte)(i + 1) })).ToList();
        var recovered = new RecoveredState(new HardState(term, votedFor, commit), null, entries);
        return new RaftNode(id, Three, recovered, options ?? Plain, new Random(42), TimeSpan.Zero);
    }

    /// <summary>Takes and advances every pending Ready, returning them merged.</summary>
    public static Drained Drain(RaftNode node)
    {
        var drained = new Drained();
        while (node.HasReady)
        {
            var ready = node.GetReady();
            drained.Readies.Add(ready);
            node.Advance(ready);
        }

        return drained;
    }

    /// <summary>Makes <paramref name="node"/> the leader of its next term with a vote from n2 (pre-vote off).</summary>
    public static void ElectLeader(RaftNode node, RaftOptions options)
    {
        node.AdvanceClock(2 * options.ElectionTimeout);
        if (node.Role == RaftRole.PreCandidate)
        {
            node.Step(new RequestVoteResponse(N2, node.Id, node.Term + 1, true, PreVote: true));
        }

        node.Step(new RequestVoteResponse(N2, node.Id, node.Term, true, PreVote: false));
        Assert.Equal(RaftRole.Leader, node.Role);
    }

    public sealed class Drained
    {
        public List<Ready> Readies { get; } = [];

        public IEnumerable<RaftMessage> Messages => Readies.SelectMany(r => r.Messages);

        public IEnumerable<LogEntry> Persisted => Readies.SelectMany(r => r.ToPersist.Entries);

        public IEnumerable<HardState> HardStates => Readies.Select(r => r.ToPersist.HardState).OfType<HardState>();

        public IEnumerable<LogEntry> Committed => Readies.SelectMany(r => r.CommittedEntries);

        public IEnumerable<ReadState> ReadStates => Readies.SelectMany(r => r.ReadStates);

        public T Single<T>(NodeId to)
            where T : RaftMessage => Assert.Single(Messages.OfType<T>(), m => m.To == to);
    }
}
