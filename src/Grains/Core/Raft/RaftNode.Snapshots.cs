namespace Orleans.Patterns.Raft;

/// <summary>Log compaction and snapshot transfer (Raft §7).</summary>
public sealed partial class RaftNode
{
    /// <summary>
    /// What a snapshot of the state machine after applying <paramref name="appliedIndex"/> covers, including the
    /// configuration in force at that index, for the host to build the <see cref="Snapshot"/> it passes to <see cref="Compact"/>.
    /// Null when the log is already compacted that far, for instance because a snapshot from the leader was installed
    /// while the host was still applying older entries: then there is nothing to compact.
    /// </summary>
    public SnapshotMetadata? SnapshotMetadataAt(long appliedIndex)
    {
        if (appliedIndex > _applied)
        {
            throw new ArgumentOutOfRangeException(nameof(appliedIndex), appliedIndex, $"beyond the applied index {_applied}");
        }

        if (appliedIndex <= _log.SnapshotIndex)
        {
            return null;
        }

        for (var index = appliedIndex; index >= _log.FirstIndex; index--)
        {
            var entry = _log.Get(index);
            if (entry.Kind == EntryKind.Configuration)
            {
                return new SnapshotMetadata(appliedIndex, _log.TermAt(appliedIndex)!.Value, ClusterConfig.Decode(entry.Data.Span));
            }
        }

        var config = _snapshot is { } snapshot && snapshot.Metadata.Index == _log.SnapshotIndex ? snapshot.Metadata.Config : _bootstrapConfig;
        return new SnapshotMetadata(appliedIndex, _log.TermAt(appliedIndex)!.Value, config);
    }

    /// <summary>
    /// Tells the replica the host saved <paramref name="snapshot"/> (taken after applying its index), so the entries it
    /// covers can be dropped; followers that need them get the snapshot instead.
    /// </summary>
    public void Compact(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var metadata = snapshot.Metadata;
        if (metadata.Index > _applied)
        {
            throw new ArgumentOutOfRangeException(nameof(snapshot), metadata.Index, $"snapshot beyond the applied index {_applied}");
        }

        if (metadata.Index <= _log.SnapshotIndex)
        {
            return;
        }

        _log.Compact(metadata.Index, metadata.Term);
        _snapshot = snapshot;
    }

    private bool SendSnapshot(NodeId peer, Progress progress)
    {
        if (_snapshot is not { } snapshot)
        {
            return false;
        }

        Send(new InstallSnapshot(Id, peer, _term, snapshot));
        progress.BecomeSnapshot(snapshot.Metadata.Index, _now);
        return true;
    }

    private void HandleInstallSnapshot(InstallSnapshot install)
    {
        FollowLeader(install.From);
        var metadata = install.Snapshot.Metadata;
        if (metadata.Index <= _commit)
        {
            Send(new InstallSnapshotResponse(Id, install.From, _term, _commit));
            return;
        }

        if (_log.Matches(metadata.Index, metadata.Term))
        {
            // §7: the log already holds the snapshot's last entry, so it and what follows stay; only commit moves.
            _commit = metadata.Index;
        }
        else
        {
            _log.Restore(metadata);
            _snapshot = install.Snapshot;
            _snapshotToPersist = install.Snapshot;
            _commit = metadata.Index;
            _applied = metadata.Index;

            // Nothing of the replaced log counts as durable until the snapshot is (see Advance).
            _stableIndex = 0;
            _truncatedSinceReady = 1;
            RefreshConfig();
        }

        Send(new InstallSnapshotResponse(Id, install.From, _term, metadata.Index));
    }

    private void HandleSnapshotResponse(InstallSnapshotResponse response)
    {
        if (_role is not LeaderState leader || !leader.Peers.TryGetValue(response.From, out var progress))
        {
            return;
        }

        progress.RecentActive = true;
        var advanced = progress.TryAdvanceMatch(response.MatchIndex, _now);
        if (progress.State == ProgressState.Snapshot)
        {
            progress.BecomeProbe();
        }

        if (advanced && MaybeCommit())
        {
            OnLeaderCommitted(leader);
            if (_role != leader)
            {
                return;
            }
        }

        while (SendAppend(response.From, progress, sendIfEmpty: false))
        {
        }
    }
}
