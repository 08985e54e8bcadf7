using System.Buffers;
using System.Collections.Immutable;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Storage;

namespace Orleans.Patterns.Tests.Raft.Storage;

/// <summary>A temp directory per test, deleted afterwards, and small builders for log data.</summary>
public abstract class WalTestBase : IDisposable
{
    protected WalTestBase()
    {
        Root = Path.Combine(Path.GetTempPath(), "raft-wal-" + Guid.NewGuid().ToString("N"));
        Dir = Path.Combine(Root, "raft", "node-1");
    }

    protected string Root { get; }

    protected string Dir { get; }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    internal static LogEntry Entry(long index, long term, int size = 32)
    {
        var data = new byte[size];
        for (var i = 0; i < size; i++)
        {
            data[i] = (byte)(index * 31 + i);
        }

        return new LogEntry(index, term, EntryKind.Command, data);
    }

    internal static PersistBatch Entries(params LogEntry[] entries) => new(null, entries, null);

    internal static Snapshot MakeSnapshot(long index, long term) =>
        new(new SnapshotMetadata(index, term, new ClusterConfig(ImmutableSortedSet.Create(new NodeId("silo-1"), new NodeId("silo-2")), [])), new byte[] { 1, 2, 3, (byte)index });

    internal static void AssertEntries(IReadOnlyList<LogEntry> actual, long first, long last, Func<long, long>? termOf = null)
    {
        Assert.Equal(last - first + 1, actual.Count);
        for (var i = 0; i < actual.Count; i++)
        {
            var expected = Entry(first + i, termOf?.Invoke(first + i) ?? actual[i].Term);
            Assert.Equal(expected.Index, actual[i].Index);
            Assert.Equal(expected.Term, actual[i].Term);
            Assert.Equal(expected.Data.ToArray(), actual[i].Data.ToArray());
        }
    }

    internal FileRaftStorage Open(
        long segmentBytes = FileRaftStorageOptions.DefaultSegmentBytes,
        Action? beforeFsync = null,
        long preallocateBytes = FileRaftStorageOptions.DefaultPreallocateBytes,
        bool writeOnCaller = false,
        CallerWriteGate? callerWrites = null,
        string? directory = null) =>
        new(directory ?? Dir, new FileRaftStorageOptions
        {
            SegmentBytes = segmentBytes,
            BeforeFsync = beforeFsync,
            PreallocateBytes = preallocateBytes,
            WriteOnCallerWhenIdle = writeOnCaller,

            // A gate of its own unless the test shares one: other tests' logs in this process must not take the slot.
            CallerWrites = callerWrites ?? new CallerWriteGate(),
        });

    internal string[] Segments() => [.. Directory.GetFiles(Dir, "*.wal").Order(StringComparer.Ordinal)];

    internal static long RecordSize(LogEntry entry) => WalFormat.HeaderBytes + 1 + 17 + entry.Data.Length;

    internal static byte[] Records(Action<ArrayBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return buffer.WrittenSpan.ToArray();
    }
}
