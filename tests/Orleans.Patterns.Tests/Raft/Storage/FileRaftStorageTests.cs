using Microsoft.Extensions.Time.Testing;
using System.Text;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Storage;

namespace Orleans.Patterns.Tests.Raft.Storage;

[Trait("Category", "Unit")]
public sealed class FileRaftStorageTests : WalTestBase
{
    [Fact]
    public void Crc32C_matches_the_standard_check_value() =>
        Assert.Equal(0xE3069283u, WalFormat.Crc32C(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public async Task Empty_directory_recovers_to_an_empty_log()
    {
        await using var storage = Open();
        var state = storage.Recover();
        Assert.Equal(default, state.HardState);
        Assert.Null(state.Snapshot);
        Assert.Empty(state.Entries);
        Assert.Empty(storage.LastRecovery.Warnings);
    }

    [Fact]
    public async Task Entries_hard_state_and_snapshot_round_trip()
    {
        var hardState = new HardState(3, new NodeId("silo-2"), 4);
        await using (var storage = Open())
        {
            storage.Recover();
            await storage.PersistAsync(new PersistBatch(hardState, [Entry(1, 1), Entry(2, 1), Entry(3, 2, 0)], null), default);
            await storage.PersistAsync(Entries(Entry(4, 3), Entry(5, 3, 1000)), default);
            await storage.CompactAsync(MakeSnapshot(2, 1), default);
        }

        await using var reopened = Open();
        var state = reopened.Recover();
        Assert.Equal(hardState, state.HardState);
        Assert.NotNull(state.Snapshot);
        Assert.Equal(2, state.Snapshot.Metadata.Index);
        Assert.Equal(1, state.Snapshot.Metadata.Term);
        Assert.Equal(MakeSnapshot(2, 1).Metadata.Config.Voters, state.Snapshot.Metadata.Config.Voters);
        Assert.Equal(new byte[] { 1, 2, 3, 2 }, state.Snapshot.Data.ToArray());
        Assert.Equal([3L, 4L, 5L], state.Entries.Select(e => e.Index));
        Assert.Equal(Entry(5, 3, 1000).Data.ToArray(), state.Entries[2].Data.ToArray());
        Assert.Empty(state.Entries[0].Data.ToArray());
        Assert.Empty(reopened.LastRecovery.Warnings);
    }

    [Fact]
    public async Task Hard_state_without_vote_round_trips()
    {
        await using (var storage = Open())
        {
            storage.Recover();
            await storage.PersistAsync(new PersistBatch(new HardState(7, null, 0), [], null), default);
        }

        await using var reopened = Open();
        Assert.Equal(new HardState(7, null, 0), reopened.Recover().HardState);
    }

    [Fact]
    public async Task Conflicting_suffix_is_replaced_and_stays_replaced_after_restart()
    {
        await using (var storage = Open())
        {
            storage.Recover();
            await storage.PersistAsync(Entries(Entry(1, 1), Entry(2, 1), Entry(3, 1), Entry(4, 1)), default);
            await storage.PersistAsync(new PersistBatch(new HardState(2, null, 1), [Entry(3, 2), Entry(4, 2), Entry(5, 2)], null), default);
            await storage.PersistAsync(Entries(Entry(2, 3)), default);
        }

        await using (var reopened = Open())
        {
            var state = reopened.Recover();
            AssertEntries(state.Entries, 1, 2, i => i == 1 ? 1 : 3);
            await reopened.PersistAsync(Entries(Entry(3, 3)), default);
        }

        await using var again = Open();
        AssertEntries(again.Recover().Entries, 1, 3, i => i == 1 ? 1 : 3);
    }

    [Fact]
    public async Task Invalid_batch_fails_only_its_own_call()
    {
        await using var storage = Open();
        storage.Recover();
        await storage.PersistAsync(Entries(Entry(1, 2)), default);
        var gap = storage.PersistAsync(Entries(Entry(3, 2)), default);
        var termBackwards = storage.PersistAsync(Entries(Entry(2, 1)), default);
        var fine = storage.PersistAsync(Entries(Entry(2, 2)), default);
        await Assert.ThrowsAsync<ArgumentException>(() => gap);
        await Assert.ThrowsAsync<ArgumentException>(() => termBackwards);
        await fine;
        await Assert.ThrowsAsync<ArgumentException>(() => storage.CompactAsync(MakeSnapshot(2, 5), default));
    }

    [Fact]
    public async Task Segments_roll_over_and_covered_ones_are_deleted_after_a_snapshot()
    {
        var hardState = new HardState(4, new NodeId("silo-1"), 90);
        await using (var storage = Open(segmentBytes: 1024))
        {
            storage.Recover();
            await storage.PersistAsync(new PersistBatch(hardState, [Entry(1, 1)], null), default);
            for (var i = 2; i <= 100; i++)
            {
                await storage.PersistAsync(Entries(Entry(i, 1 + (i / 10))), default);
            }

            Assert.True(Segments().Length > 5, $"expected a rollover, got {Segments().Length} segment(s)");
            var before = Segments().Length;
            await storage.CompactAsync(MakeSnapshot(50, 6), default);
            await storage.CompactAsync(MakeSnapshot(90, 10), default);
            Assert.True(Segments().Length < before / 2, $"{Segments().Length} of {before} segments left");
            Assert.Equal(["snapshot-90-10.snap"], Directory.GetFiles(Dir, "*.snap").Select(Path.GetFileName));
        }

        await using var reopened = Open(segmentBytes: 1024);
        var state = reopened.Recover();
        Assert.Equal(hardState, state.HardState);
        Assert.Equal(90, state.Snapshot!.Metadata.Index);
        AssertEntries(state.Entries, 91, 100, i => 1 + (i / 10));
    }

    [Fact]
    public async Task Leader_snapshot_keeps_a_matching_suffix_and_discards_a_divergent_log()
    {
        await using (var storage = Open())
        {
            storage.Recover();
            await storage.PersistAsync(Entries(Entry(1, 1), Entry(2, 1), Entry(3, 1), Entry(4, 1)), default);
            await storage.PersistAsync(new PersistBatch(null, [], MakeSnapshot(2, 1)), default);
        }

        await using (var reopened = Open())
        {
            var state = reopened.Recover();
            Assert.Equal(2, state.Snapshot!.Metadata.Index);
            AssertEntries(state.Entries, 3, 4);
            await reopened.PersistAsync(new PersistBatch(new HardState(5, null, 6), [Entry(7, 5)], MakeSnapshot(6, 5)), default);
        }

        await using var again = Open();
        var after = again.Recover();
        Assert.Equal(6, after.Snapshot!.Metadata.Index);
        AssertEntries(after.Entries, 7, 7, _ => 5);
        Assert.Equal(new HardState(5, null, 6), after.HardState);
    }

    [Fact]
    public async Task Torn_last_record_is_cut_with_a_warning_naming_file_and_offset()
    {
        long lastRecordOffset;
        await using (var storage = Open(preallocateBytes: 0)) // offsets read from the file length as it grows
        {
            storage.Recover();
            for (var i = 1; i <= 9; i++)
            {
                await storage.PersistAsync(Entries(Entry(i, 1)), default);
            }

            lastRecordOffset = new FileInfo(Segments().Single()).Length;
            await storage.PersistAsync(Entries(Entry(10, 1)), default);
        }

        var segment = Segments().Single();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(lastRecordOffset + 13);
        }

        await using var reopened = Open();
        var state = reopened.Recover();
        AssertEntries(state.Entries, 1, 9);
        var warning = Assert.IsType<TruncatedTail>(Assert.Single(reopened.LastRecovery.Warnings));
        Assert.Equal(segment, warning.File);
        Assert.Equal(lastRecordOffset, warning.Offset);
        Assert.Equal(lastRecordOffset, new FileInfo(segment).Length);

        // The cut log takes new writes and recovers cleanly afterwards.
        await reopened.PersistAsync(Entries(Entry(10, 2)), default);
        await reopened.DisposeAsync();
        await using var again = Open();
        AssertEntries(again.Recover().Entries, 1, 10, i => i == 10 ? 2 : 1);
        Assert.Empty(again.LastRecovery.Warnings);
    }

    [Fact]
    public async Task Flipped_bit_in_the_last_record_is_cut()
    {
        long lastRecordOffset;
        await using (var storage = Open(preallocateBytes: 0)) // offsets read from the file length as it grows
        {
            storage.Recover();
            await storage.PersistAsync(Entries(Entry(1, 1), Entry(2, 1)), default);
            lastRecordOffset = new FileInfo(Segments().Single()).Length;
            await storage.PersistAsync(Entries(Entry(3, 1)), default);
        }

        FlipBit(Segments().Single(), lastRecordOffset + 20);
        await using var reopened = Open();
        AssertEntries(reopened.Recover().Entries, 1, 2);
        var warning = Assert.IsType<TruncatedTail>(Assert.Single(reopened.LastRecovery.Warnings));
        Assert.Equal(lastRecordOffset, warning.Offset);
        Assert.Contains("CRC", warning.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flipped_bit_in_an_earlier_record_refuses_to_start_naming_file_and_offset()
    {
        long thirdRecordOffset = 0;
        await using (var storage = Open(preallocateBytes: 0)) // offsets read from the file length as it grows
        {
            storage.Recover();
            for (var i = 1; i <= 5; i++)
            {
                if (i == 3)
                {
                    thirdRecordOffset = new FileInfo(Segments().Single()).Length;
                }

                await storage.PersistAsync(Entries(Entry(i, 1)), default);
            }
        }

        var segment = Segments().Single();
        FlipBit(segment, thirdRecordOffset + 30);
        await using var reopened = Open();
        var error = Assert.Throws<RaftStorageCorruptException>(() => reopened.Recover());
        Assert.Equal(segment, error.File);
        Assert.Equal(thirdRecordOffset, error.Offset);
        Assert.Contains("CRC", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gap_or_term_going_backwards_on_disk_refuses_to_start()
    {
        // Records crafted directly: the writer itself rejects such batches.
        Directory.CreateDirectory(Dir);
        var path = Path.Combine(Dir, WalFormat.SegmentName(1, 1));
        var gap = Records(buffer =>
        {
            WalFormat.WriteEntry(buffer, Entry(1, 1), last: true);
            WalFormat.WriteEntry(buffer, Entry(2, 1), last: true);
            WalFormat.WriteEntry(buffer, Entry(4, 1), last: true);
        });
        await File.WriteAllBytesAsync(path, gap);
        await using (var storage = Open())
        {
            var error = Assert.Throws<RaftStorageCorruptException>(() => storage.Recover());
            Assert.Equal(path, error.File);
            Assert.Equal(2 * RecordSize(Entry(1, 1)), error.Offset);
            Assert.Contains("gap", error.Problem, StringComparison.Ordinal);
        }

        var backwards = Records(buffer =>
        {
            WalFormat.WriteEntry(buffer, Entry(1, 2), last: true);
            WalFormat.WriteEntry(buffer, Entry(2, 1), last: true);
        });
        await File.WriteAllBytesAsync(path, backwards);
        await using var again = Open();
        var termError = Assert.Throws<RaftStorageCorruptException>(() => again.Recover());
        Assert.Equal(RecordSize(Entry(1, 2)), termError.Offset);
        Assert.Contains("term goes backwards", termError.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crash_between_write_and_fsync_leaves_the_batch_whole_or_absent()
    {
        var crashed = false;
        var storage = Open(beforeFsync: () =>
        {
            if (crashed)
            {
                throw new IOException("simulated power cut before fsync");
            }
        });
        storage.Recover();
        await storage.PersistAsync(Entries(Entry(1, 1), Entry(2, 1)), default);
        crashed = true;
        await Assert.ThrowsAsync<IOException>(() => storage.PersistAsync(Entries(Entry(3, 1), Entry(4, 1), Entry(5, 1)), default));

        // A failed fsync poisons the instance: nothing later may be acknowledged.
        await Assert.ThrowsAsync<IOException>(() => storage.PersistAsync(Entries(Entry(6, 1)), default));

        // Dropped without disposing, like a killed process. The bytes reached the page cache, so they are all there.
        await using (var reopened = Open())
        {
            AssertEntries(reopened.Recover().Entries, 1, 5);
        }

        // What the disk may hold after a power cut instead: any prefix of the unsynced write.
        var segment = Segments().Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        var synced = 2 * RecordSize(Entry(1, 1));
        for (var length = synced; length <= bytes.Length; length++)
        {
            await File.WriteAllBytesAsync(segment, bytes[..(int)length]);
            await using var reopened = Open();
            var entries = reopened.Recover().Entries;
            Assert.True(entries.Count is 2 or 5, $"cut at {length}: {entries.Count} entries");
            AssertEntries(entries, 1, entries.Count);
        }

        // Or the unsynced pages as zeros (a file extended before its data reached the disk). From a batch boundary that
        // is how every extended segment ends, so it is the log's clean end; from inside a batch it is a torn batch.
        var zeroed = (byte[])bytes.Clone();
        Array.Clear(zeroed, (int)synced, zeroed.Length - (int)synced);
        await File.WriteAllBytesAsync(segment, zeroed);
        await using (var reopened = Open())
        {
            AssertEntries(reopened.Recover().Entries, 1, 2);
            Assert.Empty(reopened.LastRecovery.Warnings);
            Assert.Equal(synced, new FileInfo(segment).Length);
        }

        var insideBatch = (byte[])bytes.Clone();
        var afterEntry3 = synced + RecordSize(Entry(3, 1));
        Array.Clear(insideBatch, (int)afterEntry3, insideBatch.Length - (int)afterEntry3);
        await File.WriteAllBytesAsync(segment, insideBatch);
        await using var torn = Open();
        AssertEntries(torn.Recover().Entries, 1, 2);
        Assert.Equal(synced, Assert.IsType<TruncatedTail>(Assert.Single(torn.LastRecovery.Warnings)).Offset);
    }

    [Fact]
    public async Task A_killed_replica_recovers_its_extended_segment_without_warnings_and_cuts_a_bad_last_record()
    {
        // Not disposed, like a killed process: the segment keeps the zeros it was extended by.
        var storage = Open();
        storage.Recover();
        await storage.PersistAsync(Entries(Entry(1, 1), Entry(2, 1)), default);
        await storage.PersistAsync(Entries(Entry(3, 1)), default);
        var segment = Segments().Single();
        Assert.True(new FileInfo(segment).Length >= FileRaftStorageOptions.DefaultPreallocateBytes, "the segment was not extended");
        Assert.Equal(3 * RecordSize(Entry(1, 1)), new FileInfo(segment).Length - storage.ReservedBytes);

        await using (var reopened = Open())
        {
            AssertEntries(reopened.Recover().Entries, 1, 3);
            Assert.Empty(reopened.LastRecovery.Warnings);
            await reopened.PersistAsync(Entries(Entry(4, 1)), default);
        }

        // Closed cleanly: cut to its data, so it holds nothing but records.
        var records = 4 * RecordSize(Entry(1, 1));
        Assert.Equal(records, new FileInfo(segment).Length);

        // Killed again after one more write, with a bit flipped in that last record: cut with a warning.
        var again = Open();
        again.Recover();
        await again.PersistAsync(Entries(Entry(5, 1)), default);
        FlipBit(segment, records + 20);
        await using var recovered = Open();
        AssertEntries(recovered.Recover().Entries, 1, 4);
        var warning = Assert.IsType<TruncatedTail>(Assert.Single(recovered.LastRecovery.Warnings));
        Assert.Equal(records, warning.Offset);
        Assert.Contains("CRC", warning.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_restarts_keep_the_whole_history()
    {
        const int restarts = 25;
        for (var round = 0; round < restarts; round++)
        {
            await using var storage = Open(segmentBytes: 2048);
            var state = storage.Recover();
            Assert.Equal(round * 5, state.Entries.Count);
            Assert.Equal(round == 0 ? default : new HardState(round, new NodeId("silo-3"), round * 5), state.HardState);
            AssertEntries(state.Entries, 1, round * 5, i => (i + 4) / 5);
            var next = round * 5;
            await storage.PersistAsync(
                new PersistBatch(new HardState(round + 1, new NodeId("silo-3"), next + 5), [.. Enumerable.Range(next + 1, 5).Select(i => Entry(i, round + 1))], null),
                default);
        }
    }

    [Fact]
    public async Task Concurrent_persists_share_fsyncs_and_are_all_recovered()
    {
        const int calls = 200;
        await using (var storage = Open(beforeFsync: () => Thread.Sleep(1)))
        {
            storage.Recover();
            var writes = Enumerable.Range(1, calls)
                .Select(i => storage.PersistAsync(new PersistBatch(new HardState(1, null, i), [Entry(i, 1)], null), default))
                .ToList();
            await Task.WhenAll(writes);
            Assert.True(storage.FsyncCount < calls, $"{storage.FsyncCount} fsyncs for {calls} calls");
        }

        await using var reopened = Open();
        var state = reopened.Recover();
        AssertEntries(state.Entries, 1, calls);
        Assert.Equal(calls, state.HardState.Commit);
    }

    [Fact]
    public async Task A_commit_index_alone_is_written_without_an_fsync_and_the_next_one_covers_it()
    {
        var voted = new NodeId("silo-1");
        await using (var storage = Open())
        {
            storage.Recover();
            await storage.PersistAsync(new PersistBatch(new HardState(2, voted, 0), [Entry(1, 2), Entry(2, 2)], null), default);
            var synced = storage.FsyncCount;

            await storage.PersistAsync(new PersistBatch(new HardState(2, voted, 1), [], null, MustSync: false), default);
            await storage.PersistAsync(new PersistBatch(new HardState(2, voted, 2), [], null, MustSync: false), default);
            Assert.Equal(synced, storage.FsyncCount);

            await storage.PersistAsync(new PersistBatch(null, [Entry(3, 2)], null), default);
            Assert.Equal(synced + 1, storage.FsyncCount);
        }

        await using var reopened = Open();
        var state = reopened.Recover();
        Assert.Equal(new HardState(2, voted, 2), state.HardState);
        AssertEntries(state.Entries, 1, 3, _ => 2);
    }

    [Fact]
    public async Task Each_synced_write_group_reports_its_write_and_fsync_time_and_an_unsynced_one_reports_nothing()
    {
        // The fake clock moves only inside the writer's group, between the write and the fsync: the report is exactly that.
        var time = new FakeTimeProvider();
        var reports = new List<TimeSpan>();
        var voted = new NodeId("silo-1");
        await using var storage = new FileRaftStorage(Dir, new FileRaftStorageOptions
        {
            Time = time,
            BeforeFsync = () => time.Advance(TimeSpan.FromMilliseconds(3)),
            Synced = elapsed =>
            {
                lock (reports)
                {
                    reports.Add(elapsed);
                }
            },
        });
        storage.Recover();
        var fsyncs = storage.FsyncCount;

        await storage.PersistAsync(new PersistBatch(new HardState(2, voted, 0), [Entry(1, 2), Entry(2, 2)], null), default);
        await storage.PersistAsync(new PersistBatch(new HardState(2, voted, 1), [], null, MustSync: false), default);
        await storage.PersistAsync(new PersistBatch(null, [Entry(3, 2)], null), default);

        lock (reports)
        {
            Assert.Equal([TimeSpan.FromMilliseconds(3), TimeSpan.FromMilliseconds(3)], reports);
        }

        Assert.Equal(fsyncs + 2, storage.FsyncCount);
    }

    [Fact]
    public async Task A_batch_that_claims_no_sync_but_carries_entries_a_term_or_a_vote_is_synced_anyway()
    {
        await using var storage = Open();
        storage.Recover();
        var before = storage.FsyncCount;
        await storage.PersistAsync(new PersistBatch(null, [Entry(1, 1)], null, MustSync: false), default);
        Assert.Equal(before + 1, storage.FsyncCount);
        await storage.PersistAsync(new PersistBatch(new HardState(2, new NodeId("silo-2"), 0), [], null, MustSync: false), default);
        Assert.Equal(before + 2, storage.FsyncCount);
    }

    [Fact]
    public async Task Unsynced_commit_writes_are_synced_before_a_segment_is_closed_and_when_the_log_is_closed()
    {
        var voted = new NodeId("silo-1");
        await using (var first = Open())
        {
            first.Recover();
            await first.PersistAsync(new PersistBatch(new HardState(1, voted, 0), [Entry(1, 1)], null), default);
        }

        // Reopened with a segment size one byte above what it holds: the commit write below fills the segment, so
        // the next group starts a new one, and must first sync that unsynced tail.
        var written = new FileInfo(Assert.Single(Segments())).Length;
        await using (var storage = Open(segmentBytes: written + 1))
        {
            storage.Recover();
            await storage.PersistAsync(new PersistBatch(new HardState(1, voted, 1), [], null, MustSync: false), default);
            var beforeRoll = storage.FsyncCount;
            await storage.PersistAsync(new PersistBatch(null, [Entry(2, 1)], null), default);
            Assert.Equal(beforeRoll + 2, storage.FsyncCount);
            Assert.Equal(2, Segments().Length);
            await storage.PersistAsync(new PersistBatch(new HardState(1, voted, 2), [], null, MustSync: false), default);
        }

        await using var reopened = Open();
        var state = reopened.Recover();
        Assert.Equal(new HardState(1, voted, 2), state.HardState);
        AssertEntries(state.Entries, 1, 2, _ => 1);
        Assert.Empty(reopened.LastRecovery.Warnings);
    }

    [Fact]
    public async Task Persisting_before_recover_is_refused()
    {
        await using var storage = Open();
        Assert.Throws<InvalidOperationException>(void () => _ = storage.PersistAsync(Entries(Entry(1, 1)), default));
    }

    private static void FlipBit(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0x10));
    }
}
