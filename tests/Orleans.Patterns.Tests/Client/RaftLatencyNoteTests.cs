using Orleans.Patterns.Client.Commands;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Client;

/// <summary>What <c>raft latency</c> says of the leaders' gathered rounds.</summary>
[Trait("Category", "Unit")]
public sealed class RaftLatencyNoteTests
{
    [Fact]
    public void The_note_gives_each_replica_that_gathered_its_rounds_batches_and_their_ratio()
    {
        var replies = new Dictionary<string, object>
        {
            ["silo-2"] = new RaftWritePathLatency("silo-2", "Leader", [], GatheredRounds: 1200, GatheredBatches: 3000),
            ["silo-1"] = new RaftWritePathLatency("silo-1", "Follower", [], GatheredRounds: 10, GatheredBatches: 15),
            ["silo-3"] = new RaftWritePathLatency("silo-3", "Follower", []),
            ["silo-4"] = "timed out",
        };

        Assert.Equal(
            "gathered rounds (raft:gather_wait): silo-1 10 rounds carried 15 batches, 1.50 per round; silo-2 1,200 rounds carried 3,000 batches, 2.50 per round",
            RaftCommands.GatheringNote(replies));
    }

    [Fact]
    public void No_note_when_no_replica_gathered()
    {
        Assert.Null(RaftCommands.GatheringNote(new Dictionary<string, object> { ["silo-1"] = new RaftWritePathLatency("silo-1", "Leader", []) }));
    }
}
