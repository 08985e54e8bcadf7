using Orleans.Patterns.History;

namespace Orleans.Patterns.Tests.Linearizability;

/// <summary>Terse constructors for hand-written histories; times are plain numbers, clients small ints.</summary>
internal static class H
{
    public static HistoryOperation Put(int client, string key, string value, long call, long ret) =>
        new() { Client = client, Op = HistoryOpKind.Put, Key = key, Value = value, CallNs = call, ReturnNs = ret, Ok = true };

    public static HistoryOperation Get(int client, string key, string? output, long call, long ret) =>
        new() { Client = client, Op = HistoryOpKind.Get, Key = key, Output = output, CallNs = call, ReturnNs = ret, Ok = true };

    public static HistoryOperation Delete(int client, string key, long call, long ret) =>
        new() { Client = client, Op = HistoryOpKind.Delete, Key = key, CallNs = call, ReturnNs = ret, Ok = true };

    public static HistoryOperation Cas(int client, string key, string? expected, string value, bool swapped, long call, long ret) =>
        new()
        {
            Client = client, Op = HistoryOpKind.Cas, Key = key, Expected = expected, Value = value, Swapped = swapped,
            CallNs = call, ReturnNs = ret, Ok = true,
        };

    public static HistoryOperation Txn(int client, long call, long ret, params HistoryTxnOp[] ops) =>
        new() { Client = client, Op = HistoryOpKind.Txn, Ops = ops, CallNs = call, ReturnNs = ret, Ok = true };

    public static HistoryTxnOp TPut(string key, string value) => new() { Op = HistoryOpKind.Put, Key = key, Value = value };

    public static HistoryTxnOp TGet(string key, string? output) => new() { Op = HistoryOpKind.Get, Key = key, Output = output };

    /// <summary>The same operation, timed out: it may or may not have taken effect.</summary>
    public static HistoryOperation Unknown(this HistoryOperation op) =>
        op with { ReturnNs = null, Ok = null, Output = null, Swapped = null };

    /// <summary>The same operation, definitely failed.</summary>
    public static HistoryOperation Failed(this HistoryOperation op) =>
        op with { Ok = false, Output = null, Swapped = null };

    public static LinearizabilityResult Check(params HistoryOperation[] history) => LinearizabilityChecker.Check(history);
}
