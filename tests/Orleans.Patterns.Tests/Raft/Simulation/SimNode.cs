using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>One simulated server: a disk that survives crashes, and a replica and state machine that do not.</summary>
internal sealed class SimNode(NodeId id)
{
    public NodeId Id { get; } = id;

    public SimStorage Storage { get; } = new();

    public KvStateMachine StateMachine { get; } = new();

    /// <summary>What this server applied at each index, kept across crashes (the tester's record, as in 6.824).</summary>
    public Dictionary<long, string> AppliedLog { get; } = [];

    public RaftNode? Raft { get; set; }

    public bool IsUp => Raft is not null;

    /// <summary>Bumped at each crash so that work scheduled before it (a disk write, a timer) is discarded.</summary>
    public int Epoch { get; set; }

    public bool Persisting { get; set; }

    public TimeSpan TimerAt { get; set; } = TimeSpan.MaxValue;

    public List<ReadState> ReadStates { get; } = [];
}
