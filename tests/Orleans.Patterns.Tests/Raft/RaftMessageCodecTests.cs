using System.Collections.Immutable;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft;

[Trait("Category", "Unit")]
public sealed class RaftMessageCodecTests
{
    private static readonly NodeId A = new("silo-1");
    private static readonly NodeId B = new("silo-2");

    public static TheoryData<RaftMessage> Messages() =>
    [
        new RequestVote(A, B, 7, 42, 6, PreVote: true, Transfer: false),
        new RequestVoteResponse(B, A, 7, Granted: true, PreVote: true),
        new AppendEntriesResponse(B, A, 7, Success: false, MatchIndex: 0, RejectedIndex: 41, ConflictTerm: 5, ConflictIndex: 30),
        new Heartbeat(A, B, 7, Commit: 40, Round: 12),
        new HeartbeatResponse(B, A, 7, Round: 12),
        new InstallSnapshotResponse(B, A, 7, MatchIndex: 100),
        new TimeoutNow(A, B, 7),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Messages_without_payloads_round_trip(RaftMessage message) =>
        Assert.Equal(message, RaftMessageCodec.Decode(RaftMessageCodec.Encode(message)));

    [Fact]
    public void Append_entries_round_trip_with_their_entries_and_payload_bytes()
    {
        var message = new AppendEntries(A, B, 3, PrevLogIndex: 9, PrevLogTerm: 2,
            [new LogEntry(10, 3, EntryKind.NoOp, ReadOnlyMemory<byte>.Empty), new LogEntry(11, 3, EntryKind.Command, new byte[] { 1, 2, 3 })],
            LeaderCommit: 9);

        var decoded = Assert.IsType<AppendEntries>(RaftMessageCodec.Decode(RaftMessageCodec.Encode(message)));

        Assert.Equal((message.From, message.To, message.Term, message.PrevLogIndex, message.PrevLogTerm, message.LeaderCommit),
            (decoded.From, decoded.To, decoded.Term, decoded.PrevLogIndex, decoded.PrevLogTerm, decoded.LeaderCommit));
        Assert.Equal(2, decoded.Entries.Count);
        Assert.Equal((11L, 3L, EntryKind.Command), (decoded.Entries[1].Index, decoded.Entries[1].Term, decoded.Entries[1].Kind));
        Assert.Equal([1, 2, 3], decoded.Entries[1].Data.ToArray());
        Assert.True(decoded.Entries[0].Data.IsEmpty);
    }

    [Fact]
    public void Install_snapshot_round_trips_its_configuration_and_data()
    {
        var config = new ClusterConfig(ImmutableSortedSet.Create(A, B), ImmutableSortedSet.Create(new NodeId("silo-3")));
        var message = new InstallSnapshot(A, B, 4, new Snapshot(new SnapshotMetadata(100, 3, config), new byte[] { 9, 8, 7 }));

        var decoded = Assert.IsType<InstallSnapshot>(RaftMessageCodec.Decode(RaftMessageCodec.Encode(message)));

        Assert.Equal((100L, 3L), (decoded.Snapshot.Metadata.Index, decoded.Snapshot.Metadata.Term));
        Assert.Equal(config.Voters, decoded.Snapshot.Metadata.Config.Voters);
        Assert.Equal(config.Learners, decoded.Snapshot.Metadata.Config.Learners);
        Assert.Equal([9, 8, 7], decoded.Snapshot.Data.ToArray());
    }

    [Fact]
    public void An_unknown_format_version_is_refused()
    {
        var bytes = RaftMessageCodec.Encode(new TimeoutNow(A, B, 1));
        bytes[0] = 99;

        var error = Assert.Throws<InvalidDataException>(() => RaftMessageCodec.Decode(bytes));
        Assert.Equal("Raft message format 99 is not supported (expected 1).", error.Message);
    }
}
