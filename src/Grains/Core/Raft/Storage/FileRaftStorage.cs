using System.Buffers;
using System.Buffers.Binary;
using Orleans.Patterns.IO;

namespace Orleans.Patterns.Raft.Storage;

/// <summary>
/// A replica's Raft log, hard state and snapshots in one directory on the silo's own disk.
/// </summary>
/// <remarks>
/// <para>
/// Log: append-only segment files <c>{sequence}-{firstIndex}.wal</c> of CRC32C-checked records. A batch is a run of
/// records whose last one carries an end-of-batch flag, and recovery applies a batch only when it sees that flag, so a
/// <see cref="PersistBatch"/> is atomic: a crash leaves all of it or none. Replacing a conflicting suffix appends a
/// truncation record instead of rewriting files (an append is one write and one fsync, a rewrite is several and has
/// its own crash windows). Because truncation makes indices non-monotonic across files, files are ordered by the
/// sequence number in their name, not by their first index.
/// </para>
/// <para>
/// Hard state: a record in the same log, so a vote or term change and the entries persisted with it share one write
/// and one fsync, and are atomic together. Every new segment starts with the current hard state, so deleting old
/// segments after a snapshot never loses it.
/// </para>
/// <para>
/// Writes go through one dedicated writer thread: every call queued while an fsync is in flight is written in one
/// go and covered by the next single fsync (group commit). With
/// <see cref="FileRaftStorageOptions.WriteOnCallerWhenIdle"/> a write that finds the writer idle is written on the
/// caller's thread instead, and only the calls that arrive meanwhile go to the writer thread; one group is written at a
/// time either way, in the order the calls came. A group of batches that only move the commit index
/// (<see cref="PersistBatch.MustSync"/> false) is written without an fsync; the next fsync covers it, and so does
/// starting a new segment or closing the storage, so only the tail of the last segment is ever unsynced. A failed
/// write or fsync fails that group and every later call: after a failed fsync the kernel may have dropped the dirty
/// pages, so only a restart and recovery can tell what is on disk.
/// </para>
/// <para>
/// The active segment is extended ahead of its writes (<see cref="FileRaftStorageOptions.PreallocateBytes"/>), so an
/// append's fsync rarely has a new file size to record; a segment is cut to its data when it is closed, and recovery
/// takes zeros from a batch boundary to the end of the last segment for its clean end.
/// </para>
/// <para>
/// Recovery cuts a bad record only at the tail of the last segment, where an unsynced (never acknowledged) write
/// can be torn: fewer bytes than a header, a length running past the end of the file, a CRC or type mismatch in the
/// file's final record, or zeros to the end. Anything else refuses to start. Limits: a bit flip in the length field
/// of the last segment that points past the end of the file looks exactly like a torn write and is cut too; one
/// instance per directory is assumed, not enforced by a lock.
/// </para>
/// </remarks>
public sealed class FileRaftStorage : IRaftStorage
{
    private readonly string _directory;
    private readonly FileRaftStorageOptions _options;
    private readonly Queue<PendingWrite> _queue = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly List<Segment> _segments = [];

    // Term of entry _snapshotIndex + 1 + i: enough to validate appends and apply Raft §7 without keeping the data.
    private readonly List<long> _terms = [];

    // Guarded by _queue.
    private Thread? _writer;
    private bool _recovered;
    private bool _disposed;
    private Exception? _fault;

    // Guarded by _queue: a write group is being written, by the writer thread or by a caller (WriteOnCallerWhenIdle).
    private bool _writing;

    // Owned by Recover, then by whoever set _writing (the writer thread or a caller writing in its place).
    private FileStream? _active;
    private long _activeLength;
    private HardState _hardState;
    private long _snapshotIndex;
    private long _snapshotTerm;
    private string? _snapshotName;
    private long _fsyncCount;
    private bool _syncDue;
    private bool _unsynced;
    private long _allocated;
    private long _reservedBytes;

    /// <param name="directory">This replica's own directory, e.g. <c>{dataDir}/raft/{nodeId}</c>; created if missing.</param>
    /// <param name="options">Segment size and test hooks; defaults if null.</param>
    public FileRaftStorage(string directory, FileRaftStorageOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
        _options = options ?? new FileRaftStorageOptions();
        if (_options.SegmentBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "SegmentBytes must be positive.");
        }
    }

    /// <summary>The directory this storage owns.</summary>
    public string Directory => _directory;

    /// <summary>What the last <see cref="Recover"/> repaired (torn tails cut, snapshots skipped).</summary>
    public RecoveryReport LastRecovery { get; private set; } = RecoveryReport.None;

    /// <summary>Log fsyncs so far; with group commit it grows more slowly than the number of persist calls.</summary>
    public long FsyncCount => Interlocked.Read(ref _fsyncCount);

    /// <summary>
    /// Bytes the active segment is extended by and has not written yet: in the files' lengths, not in the log (and,
    /// the extension being a hole, not on the disk either).
    /// </summary>
    public long ReservedBytes => Interlocked.Read(ref _reservedBytes);

    private long LastIndex => _snapshotIndex + _terms.Count;

    /// <inheritdoc />
    /// <exception cref="RaftStorageCorruptException">The log is damaged before its tail or breaks an invariant.</exception>
    public RecoveredState Recover()
    {
        lock (_queue)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_recovered)
            {
                throw new InvalidOperationException("Recover runs once, before the first write.");
            }

            _recovered = true;
        }

        DirectorySync.EnsureDirectory(_directory);
        foreach (var orphan in System.IO.Directory.EnumerateFiles(_directory, "*" + WalFormat.TempExtension))
        {
            // Half-written snapshot files from a crash; only final names are ever read.
            File.Delete(orphan);
        }

        var warnings = new List<RecoveryWarning>();
        var snapshot = LoadNewestSnapshot(warnings);
        var replay = new LogReplay();
        var segmentFiles = System.IO.Directory.EnumerateFiles(_directory, "*" + WalFormat.SegmentExtension)
            .Select(path => (Path: path, Ok: WalFormat.TryParseSegmentName(Path.GetFileName(path), out var sequence), Sequence: sequence))
            .Where(file => file.Ok)
            .OrderBy(file => file.Sequence)
            .ToList();

        for (var i = 0; i < segmentFiles.Count; i++)
        {
            var segment = new Segment(segmentFiles[i].Path, segmentFiles[i].Sequence);
            replay.ReadSegment(segment, isLast: i == segmentFiles.Count - 1, warnings);
            _segments.Add(segment);
        }

        var entries = replay.Finish(snapshot?.Metadata);
        _hardState = replay.HardState;
        _snapshotIndex = snapshot?.Metadata.Index ?? 0;
        _snapshotTerm = snapshot?.Metadata.Term ?? 0;
        _snapshotName = snapshot is null ? null : WalFormat.SnapshotName(_snapshotIndex, _snapshotTerm);
        _terms.AddRange(entries.Select(entry => entry.Term));

        if (_segments.Count == 0)
        {
            RollSegment();
            FlushBuffer();
        }
        else
        {
            _active = new FileStream(_segments[^1].Path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0);
            _activeLength = _active.Seek(0, SeekOrigin.End);
            _allocated = _activeLength;
        }

        LastRecovery = new RecoveryReport(warnings, _segments.Count, snapshot?.Metadata.Index);
        lock (_queue)
        {
            _writer = new Thread(WriterLoop) { IsBackground = true, Name = "raft-wal-writer" };
            _writer.Start();
        }

        return new RecoveredState(_hardState, snapshot, entries);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Entries at or below the snapshot index are already covered and ignored; an entry at an index already in the
    /// log replaces it and everything after it. A snapshot that does not match the log's entry at its index
    /// discards the whole log (Raft §7). Cancelling stops the wait, not the write.
    /// </remarks>
    public Task PersistAsync(PersistBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        return batch.IsEmpty ? Task.CompletedTask : Enqueue(new PendingWrite(batch, null), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The snapshot must end at an entry of the log (same index and term); an older one is ignored.</remarks>
    public Task CompactAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        return Enqueue(new PendingWrite(null, snapshot), cancellationToken);
    }

    /// <summary>Finishes queued writes, then stops the writer thread and closes the active segment.</summary>
    public async ValueTask DisposeAsync()
    {
        Thread? writer;
        lock (_queue)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writer;
            Monitor.PulseAll(_queue);
        }

        if (writer is not null)
        {
            await _stopped.Task;
        }
        else
        {
            CloseActive(); // never written to since Recover, which synced
        }
    }

    private Task Enqueue(PendingWrite write, CancellationToken cancellationToken)
    {
        bool onCaller;
        lock (_queue)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is null)
            {
                throw new InvalidOperationException("Call Recover before writing.");
            }

            if (_fault is not null)
            {
                return Task.FromException(Failed());
            }

            // Snapshots (a compaction's, or one installed with a batch) always go to the writer thread: writing one can
            // take tens of milliseconds.
            onCaller = _options.WriteOnCallerWhenIdle && write.Batch is { Snapshot: null } && !_writing && _queue.Count == 0
                       && _options.CallerWrites.TryEnter();
            if (onCaller)
            {
                _writing = true;
            }
            else
            {
                _queue.Enqueue(write);
                if (!_writing)
                {
                    Monitor.Pulse(_queue);
                }
            }
        }

        if (onCaller)
        {
            WriteOnCaller(write);
        }

        return cancellationToken.CanBeCanceled ? write.Completion.Task.WaitAsync(cancellationToken) : write.Completion.Task;
    }

    /// <summary>Writes <paramref name="write"/> in the writer thread's place, then hands it whatever queued meanwhile.</summary>
    private void WriteOnCaller(PendingWrite write)
    {
        try
        {
            WriteGroup([write]);
        }
        finally
        {
            _options.CallerWrites.Exit();
            lock (_queue)
            {
                _writing = false;
                if (_queue.Count > 0 || _disposed)
                {
                    Monitor.Pulse(_queue);
                }
            }
        }
    }

    private IOException Failed() => new("The Raft log failed a write earlier; restart the replica to recover from disk.", _fault);

    private void WriterLoop()
    {
        var group = new List<PendingWrite>();
        while (true)
        {
            lock (_queue)
            {
                // A caller writing in this thread's place owns the files until it is done.
                while ((_queue.Count == 0 || _writing) && !(_disposed && !_writing))
                {
                    Monitor.Wait(_queue);
                }

                if (_queue.Count == 0)
                {
                    break;
                }

                group.AddRange(_queue);
                _queue.Clear();
                _writing = true;
            }

            WriteGroup(group);
            group.Clear();
            lock (_queue)
            {
                _writing = false;
            }
        }

        try
        {
            CloseActive();
        }
        catch (IOException)
        {
            // Only commit-index writes can be unsynced here, and a restarted replica relearns those.
        }

        _stopped.TrySetResult();
    }

    private void WriteGroup(List<PendingWrite> group)
    {
        Exception? fault;
        lock (_queue)
        {
            fault = _fault;
        }

        if (fault is not null)
        {
            foreach (var write in group)
            {
                write.Completion.TrySetException(Failed());
            }

            return;
        }

        var accepted = new List<PendingWrite>(group.Count);
        var started = _options.Synced is null ? 0 : _options.Time.GetTimestamp();
        var fsyncsBefore = _fsyncCount;
        var synced = TimeSpan.Zero;
        try
        {
            _buffer.ResetWrittenCount();
            if (_activeLength >= _options.SegmentBytes)
            {
                RollSegment();
            }

            var cleanup = false;
            foreach (var write in group)
            {
                try
                {
                    cleanup |= write.Batch is not null ? Append(write.Batch) : Compact(write.Compaction!);
                    accepted.Add(write);
                }
                catch (ArgumentException invalid)
                {
                    // Checked before anything of this call is written: only this caller fails.
                    write.Completion.TrySetException(invalid);
                }
            }

            FlushBuffer(_syncDue);
            _syncDue = false;
            if (_options.Synced is not null)
            {
                synced = _options.Time.GetElapsedTime(started);
            }

            if (cleanup)
            {
                DeleteCovered();
            }
        }
        catch (Exception error)
        {
            // After a failed write or fsync the file's state is unknown (the kernel may have dropped dirty pages),
            // so no later write may be acknowledged; only recovery from disk can tell what survived.
            lock (_queue)
            {
                _fault = error;
            }

            foreach (var write in accepted)
            {
                write.Completion.TrySetException(Failed());
            }

            return;
        }

        foreach (var write in accepted)
        {
            write.Completion.TrySetResult();
        }

        // Reported after the waiters are released, off their path.
        if (_fsyncCount != fsyncsBefore)
        {
            _options.Synced?.Invoke(synced);
        }
    }

    /// <summary>Validates a batch against the log, then buffers its records. Returns whether files can be cleaned up.</summary>
    private bool Append(PersistBatch batch)
    {
        var snapshot = batch.Snapshot is { } offered && offered.Metadata.Index > _snapshotIndex ? offered : null;

        // The log as it will be once the snapshot (if any) is applied, to validate entries before writing anything.
        long viewIndex = _snapshotIndex, viewTerm = _snapshotTerm, viewLast = LastIndex;
        var reset = false;
        if (snapshot is not null)
        {
            viewIndex = snapshot.Metadata.Index;
            viewTerm = snapshot.Metadata.Term;
            if (viewIndex > LastIndex || TermAt(viewIndex) != viewTerm)
            {
                reset = true;
                viewLast = viewIndex;
            }
        }

        var entries = batch.Entries;
        var skip = 0;
        while (skip < entries.Count && entries[skip].Index <= viewIndex)
        {
            skip++;
        }

        if (skip < entries.Count)
        {
            var first = entries[skip].Index;
            if (first > viewLast + 1)
            {
                throw new ArgumentException($"Entry {first} would leave a gap: the log ends at {viewLast}.", nameof(batch));
            }

            var previousTerm = first - 1 == viewIndex ? viewTerm : TermAt(first - 1);
            for (var i = skip; i < entries.Count; i++)
            {
                if (entries[i].Index != first + (i - skip))
                {
                    throw new ArgumentException($"Entries are not contiguous at index {entries[i].Index}.", nameof(batch));
                }

                if (entries[i].Term < previousTerm)
                {
                    throw new ArgumentException($"Entry {entries[i].Index} has term {entries[i].Term}, below the term {previousTerm} before it.", nameof(batch));
                }

                previousTerm = entries[i].Term;
            }
        }

        if (snapshot is not null)
        {
            WriteSnapshotFile(snapshot);
            if (reset)
            {
                _terms.Clear();
            }
            else
            {
                _terms.RemoveRange(0, (int)(viewIndex - _snapshotIndex));
            }

            _snapshotIndex = viewIndex;
            _snapshotTerm = viewTerm;
        }

        var writeHardState = batch.HardState is { } state && state != _hardState;

        // Checked here as well as trusted from the batch: entries, a snapshot, a term or a vote are always synced.
        _syncDue |= batch.MustSync
            || snapshot is not null
            || skip < entries.Count
            || (writeHardState && (batch.HardState!.Value.Term != _hardState.Term || batch.HardState.Value.VotedFor != _hardState.VotedFor));
        var truncate = skip < entries.Count && entries[skip].Index <= LastIndex;
        var remaining = (reset ? 1 : 0) + (writeHardState ? 1 : 0) + (truncate ? 1 : 0) + (entries.Count - skip);
        if (reset)
        {
            WalFormat.WriteIndexRecord(_buffer, WalRecordType.Reset, _snapshotIndex + 1, --remaining == 0);
        }

        if (writeHardState)
        {
            _hardState = batch.HardState!.Value;
            WalFormat.WriteHardState(_buffer, _hardState, --remaining == 0);
        }

        if (truncate)
        {
            var from = entries[skip].Index;
            WalFormat.WriteIndexRecord(_buffer, WalRecordType.Truncate, from, --remaining == 0);
            _terms.RemoveRange((int)(from - _snapshotIndex - 1), (int)(LastIndex - from + 1));
        }

        for (var i = skip; i < entries.Count; i++)
        {
            WalFormat.WriteEntry(_buffer, entries[i], --remaining == 0);
            _terms.Add(entries[i].Term);
        }

        if (entries.Count > skip)
        {
            _segments[^1].MaxIndex = Math.Max(_segments[^1].MaxIndex, entries[^1].Index);
        }

        return snapshot is not null;
    }

    private bool Compact(Snapshot snapshot)
    {
        var (index, term) = (snapshot.Metadata.Index, snapshot.Metadata.Term);
        if (index <= _snapshotIndex)
        {
            return false;
        }

        if (index > LastIndex || TermAt(index) != term)
        {
            throw new ArgumentException($"Snapshot ({index}, term {term}) does not end at an entry of the log.", nameof(snapshot));
        }

        WriteSnapshotFile(snapshot);
        _syncDue = true;
        _terms.RemoveRange(0, (int)(index - _snapshotIndex));
        _snapshotIndex = index;
        _snapshotTerm = term;
        return true;
    }

    private long TermAt(long index) => index == _snapshotIndex ? _snapshotTerm : _terms[(int)(index - _snapshotIndex - 1)];

    /// <summary>Temp file, fsync, rename, fsync directory: the snapshot is either wholly there or absent.</summary>
    private void WriteSnapshotFile(Snapshot snapshot)
    {
        var name = WalFormat.SnapshotName(snapshot.Metadata.Index, snapshot.Metadata.Term);
        var path = Path.Combine(_directory, name);
        var temp = $"{path}.{Guid.NewGuid():N}{WalFormat.TempExtension}";
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.Write(WalFormat.EncodeSnapshot(snapshot));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        DirectorySync.Flush(_directory);
        _snapshotName = name;
    }

    /// <summary>
    /// Deletes older snapshots and the oldest segments whose entries the snapshot covers. Only a prefix of segments
    /// goes, never the active one: a truncation record only affects records before it, so the survivors replay the
    /// same way, and the active segment holds the latest hard state.
    /// </summary>
    private void DeleteCovered()
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(_directory, "*" + WalFormat.SnapshotExtension))
        {
            if (Path.GetFileName(file) != _snapshotName && WalFormat.TryParseSnapshotName(Path.GetFileName(file), out _, out _))
            {
                File.Delete(file);
            }
        }

        while (_segments.Count > 1 && _segments[0].MaxIndex <= _snapshotIndex)
        {
            File.Delete(_segments[0].Path);
            _segments.RemoveAt(0);
        }

        DirectorySync.Flush(_directory);
    }

    private void RollSegment()
    {
        var sequence = _segments.Count > 0 ? _segments[^1].Sequence + 1 : 1;
        var path = Path.Combine(_directory, WalFormat.SegmentName(sequence, LastIndex + 1));
        CloseActive();
        _active = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        DirectorySync.Flush(_directory);
        _segments.Add(new Segment(path, sequence));
        _activeLength = 0;
        _allocated = 0;
        if (_hardState != default)
        {
            WalFormat.WriteHardState(_buffer, _hardState, last: true);
        }
    }

    private void FlushBuffer(bool sync = true)
    {
        if (_buffer.WrittenCount > 0)
        {
            if (_options.PreallocateBytes > 0 && _activeLength + _buffer.WrittenCount > _allocated)
            {
                // Extend the file ahead of the writes: then most fsyncs record data only, not also a new file size.
                _allocated = _activeLength + _buffer.WrittenCount + _options.PreallocateBytes;
                _active!.SetLength(_allocated);
            }

            _active!.Write(_buffer.WrittenSpan);
            _activeLength += _buffer.WrittenCount;
            _buffer.ResetWrittenCount();
            _unsynced = true;
            Interlocked.Exchange(ref _reservedBytes, Math.Max(0, _allocated - _activeLength));
        }

        if (sync && _unsynced)
        {
            _options.BeforeFsync?.Invoke();
            _active!.Flush(flushToDisk: true);
            Interlocked.Increment(ref _fsyncCount);
            _unsynced = false;
        }
    }

    /// <summary>
    /// Closes the active segment, cut to its data and synced: no closed segment has an unsynced tail or a zero one.
    /// </summary>
    private void CloseActive()
    {
        if (_active is null)
        {
            return;
        }

        if (_allocated > _activeLength)
        {
            _active.SetLength(_activeLength);
            _allocated = _activeLength;
            _unsynced = true;
            Interlocked.Exchange(ref _reservedBytes, 0);
        }

        FlushBuffer();
        _active.Dispose();
        _active = null;
    }

    private Snapshot? LoadNewestSnapshot(List<RecoveryWarning> warnings)
    {
        var candidates = System.IO.Directory.EnumerateFiles(_directory, "*" + WalFormat.SnapshotExtension)
            .Select(path => (Path: path, Ok: WalFormat.TryParseSnapshotName(Path.GetFileName(path), out var index, out var term), Index: index, Term: term))
            .Where(file => file.Ok)
            .OrderByDescending(file => file.Index)
            .ThenByDescending(file => file.Term);

        foreach (var file in candidates)
        {
            try
            {
                var snapshot = WalFormat.DecodeSnapshot(File.ReadAllBytes(file.Path));
                if (snapshot.Metadata.Index == file.Index && snapshot.Metadata.Term == file.Term)
                {
                    return snapshot;
                }

                warnings.Add(new SkippedSnapshot(file.Path, "contents do not match the file name"));
            }
            catch (Exception error) when (error is FormatException or EndOfStreamException or IOException)
            {
                warnings.Add(new SkippedSnapshot(file.Path, error.Message));
            }
        }

        return null;
    }

    private sealed class Segment(string path, long sequence)
    {
        public string Path { get; } = path;

        public long Sequence { get; } = sequence;

        /// <summary>Highest entry index ever written here: the segment is covered once a snapshot reaches it.</summary>
        public long MaxIndex { get; set; }
    }

    private sealed class PendingWrite(PersistBatch? batch, Snapshot? compaction)
    {
        public PersistBatch? Batch { get; } = batch;

        public Snapshot? Compaction { get; } = compaction;

        // Continuations run off the writer thread, so a slow caller never delays the next fsync.
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Replays segments in order into the log they describe, checking every invariant on the way.</summary>
    private sealed class LogReplay
    {
        private readonly List<LogEntry> _entries = [];
        private readonly List<(string File, long Offset)> _locations = [];
        private bool _haveBase;
        private long _next;

        public HardState HardState { get; private set; }

        public void ReadSegment(Segment segment, bool isLast, List<RecoveryWarning> warnings)
        {
            var bytes = File.ReadAllBytes(segment.Path);
            var batch = new List<(WalRecordType Type, int Start, int Length, long Offset)>();
            var batchStart = 0;
            var position = 0;
            while (position < bytes.Length)
            {
                var (problem, torn, length) = CheckRecord(bytes, position);
                if (problem is not null)
                {
                    // Only the tail of the last segment can hold a write that was never fsynced (and so never
                    // acknowledged); damage anywhere else is lost acknowledged data.
                    if (isLast && batch.Count == 0 && AllZero(bytes.AsSpan(position)))
                    {
                        // The unused end of a segment extended ahead of its writes: a clean end, not damage.
                        CutTail(segment.Path, position);
                        return;
                    }

                    if (isLast && (torn || AllZero(bytes.AsSpan(position))))
                    {
                        var cut = batch.Count > 0 ? batchStart : position;
                        CutTail(segment.Path, cut);
                        warnings.Add(new TruncatedTail(segment.Path, cut, problem));
                        return;
                    }

                    throw new RaftStorageCorruptException(segment.Path, position, problem);
                }

                if (batch.Count == 0)
                {
                    batchStart = position;
                }

                var type = bytes[position + WalFormat.HeaderBytes];
                batch.Add(((WalRecordType)(type & ~WalFormat.EndOfBatch), position + WalFormat.HeaderBytes + 1, length - 1, position));
                position += WalFormat.HeaderBytes + length;
                if ((type & WalFormat.EndOfBatch) != 0)
                {
                    foreach (var record in batch)
                    {
                        Apply(segment, record.Type, bytes.AsSpan(record.Start, record.Length), record.Offset);
                    }

                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                if (!isLast)
                {
                    throw new RaftStorageCorruptException(segment.Path, batchStart, "batch not terminated before the end of a closed segment");
                }

                CutTail(segment.Path, batchStart);
                warnings.Add(new TruncatedTail(segment.Path, batchStart, "incomplete batch at the end of the log"));
            }
        }

        /// <summary>Applies the snapshot to the replayed log and returns the entries after it.</summary>
        public IReadOnlyList<LogEntry> Finish(SnapshotMetadata? snapshot)
        {
            long index = snapshot?.Index ?? 0, term = snapshot?.Term ?? 0;
            if (_entries.Count == 0)
            {
                return [];
            }

            var first = _entries[0].Index;
            var last = _entries[^1].Index;
            if (index >= first && index <= last && _entries[(int)(index - first)].Term != term)
            {
                // A leader's snapshot that disagrees with the log replaces all of it (Raft §7); the snapshot file is
                // durable before the reset record, so a crash between the two lands here.
                return [];
            }

            var drop = index >= first ? (int)Math.Min(_entries.Count, index - first + 1) : 0;
            if (drop == _entries.Count)
            {
                return [];
            }

            var start = _entries[drop];
            var (file, offset) = _locations[drop];
            if (start.Index != index + 1)
            {
                throw new RaftStorageCorruptException(file, offset, $"gap: the log resumes at index {start.Index} but the snapshot ends at {index}");
            }

            if (start.Term < term)
            {
                throw new RaftStorageCorruptException(file, offset, $"term goes backwards: entry {start.Index} has term {start.Term} after snapshot term {term}");
            }

            return _entries.GetRange(drop, _entries.Count - drop);
        }

        private static (string? Problem, bool Torn, int Length) CheckRecord(byte[] bytes, int position)
        {
            var remaining = bytes.Length - position;
            if (remaining < WalFormat.HeaderBytes)
            {
                return ("short record header", true, 0);
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position));
            if (length == 0)
            {
                return ("zero record length", false, 0);
            }

            if (length > remaining - WalFormat.HeaderBytes)
            {
                return ($"short read: record of {length} bytes, {remaining - WalFormat.HeaderBytes} left in the file", true, 0);
            }

            var body = bytes.AsSpan(position + WalFormat.HeaderBytes, (int)length);
            // The file's final record: nothing after it, or only the zeros of a segment extended ahead of its writes.
            var end = position + WalFormat.HeaderBytes + (int)length;
            var endsFile = end == bytes.Length || AllZero(bytes.AsSpan(end));
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position + 4)) != WalFormat.Checksum(body))
            {
                return ("CRC mismatch", endsFile, 0);
            }

            var type = body[0] & ~WalFormat.EndOfBatch;
            return type is < (int)WalRecordType.Entry or > (int)WalRecordType.Reset
                ? ($"unknown record type {type}", endsFile, 0)
                : (null, false, (int)length);
        }

        private static bool AllZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);

        private static void CutTail(string path, long length)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0);
            stream.SetLength(length);
            stream.Flush(flushToDisk: true);
        }

        private void Apply(Segment segment, WalRecordType type, ReadOnlySpan<byte> payload, long offset)
        {
            try
            {
                switch (type)
                {
                    case WalRecordType.HardState:
                        HardState = WalFormat.ReadHardState(payload);
                        break;
                    case WalRecordType.Reset:
                        _entries.Clear();
                        _locations.Clear();
                        _next = WalFormat.ReadIndex(payload);
                        _haveBase = true;
                        break;
                    case WalRecordType.Truncate:
                        Truncate(segment, WalFormat.ReadIndex(payload), offset);
                        break;
                    default:
                        AppendEntry(segment, WalFormat.ReadEntry(payload), offset);
                        break;
                }
            }
            catch (FormatException malformed)
            {
                throw new RaftStorageCorruptException(segment.Path, offset, malformed.Message);
            }
        }

        private void Truncate(Segment segment, long from, long offset)
        {
            if (_haveBase && from > _next)
            {
                throw new RaftStorageCorruptException(segment.Path, offset, $"truncation at index {from} beyond the log's end {_next - 1}");
            }

            // Entries below the first one replayed were in segments deleted after a snapshot: nothing to cut there.
            var first = _entries.Count > 0 ? _entries[0].Index : from;
            var keep = (int)Math.Max(0, from - first);
            if (keep < _entries.Count)
            {
                _entries.RemoveRange(keep, _entries.Count - keep);
                _locations.RemoveRange(keep, _locations.Count - keep);
            }

            _next = from;
            _haveBase = true;
        }

        private void AppendEntry(Segment segment, LogEntry entry, long offset)
        {
            if (_haveBase && entry.Index != _next)
            {
                var problem = entry.Index > _next
                    ? $"gap: expected index {_next}, found {entry.Index}"
                    : $"index goes backwards without a truncation record: expected {_next}, found {entry.Index}";
                throw new RaftStorageCorruptException(segment.Path, offset, problem);
            }

            if (_entries.Count > 0 && entry.Term < _entries[^1].Term)
            {
                throw new RaftStorageCorruptException(segment.Path, offset, $"term goes backwards: entry {entry.Index} has term {entry.Term} after term {_entries[^1].Term}");
            }

            _entries.Add(entry);
            _locations.Add((segment.Path, offset));
            _haveBase = true;
            _next = entry.Index + 1;
            segment.MaxIndex = Math.Max(segment.MaxIndex, entry.Index);
        }
    }
}
