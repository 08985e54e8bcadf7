namespace Orleans.Patterns.Raft.Storage;

/// <summary>
/// One slot for a caller blocked in a log write of its own (<see cref="FileRaftStorageOptions.WriteOnCallerWhenIdle"/>),
/// shared by the logs that use it. The caller is a thread-pool thread, and a disk can stall; with one slot per process,
/// at most one pool thread is ever held by a disk, however many logs the process hosts (a test host's clusters, one log
/// per replica): the others write through their writer threads meanwhile, as they would with the option off.
/// </summary>
public sealed class CallerWriteGate
{
    private int _held;

    /// <summary>The slot every log of the process shares unless given its own.</summary>
    public static CallerWriteGate Process { get; } = new();

    /// <summary>Whether a caller is writing through this slot now.</summary>
    public bool Held => Volatile.Read(ref _held) == 1;

    internal bool TryEnter() => Interlocked.CompareExchange(ref _held, 1, 0) == 0;

    internal void Exit() => Volatile.Write(ref _held, 0);
}
