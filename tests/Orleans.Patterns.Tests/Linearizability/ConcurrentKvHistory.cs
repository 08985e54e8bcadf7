using Orleans.Patterns.History;

namespace Orleans.Patterns.Tests.Linearizability;

/// <summary>
/// Records histories from a store that is linearizable by construction — a dictionary behind one lock, the lock
/// acquisition being each operation's linearization point — driven by real client threads with random delays before
/// and after the critical section, so calls and returns genuinely overlap. Some operations are reported as failed
/// (not applied) or timed out (applied or not, at random): the checker must accept all of it.
/// </summary>
/// <remarks>
/// The seed fixes each client's choices (operations, keys, delays, outcomes); the interleaving is up to the scheduler,
/// so a replayed seed reproduces the workload, not necessarily the exact history.
/// </remarks>
internal static class ConcurrentKvHistory
{
    public static IReadOnlyList<HistoryOperation> Generate(int seed, int clients, int opsPerClient, int keys, bool txns)
    {
        var recorder = new HistoryRecorder();
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        var storeLock = new Lock();
        var threads = new Thread[clients];
        using var start = new Barrier(clients);
        for (int c = 0; c < clients; c++)
        {
            int client = c;
            threads[c] = new Thread(() =>
            {
                var random = new Random(HashCode.Combine(seed, client));
                start.SignalAndWait();
                for (int i = 0; i < opsPerClient; i++)
                {
                    RunOne(recorder, store, storeLock, random, client, i, keys, txns);
                }
            });
            threads[c].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        return recorder.Snapshot();
    }

    private static void RunOne(
        HistoryRecorder recorder,
        Dictionary<string, string> store,
        Lock storeLock,
        Random random,
        int client,
        int seq,
        int keys,
        bool txns)
    {
        string key = $"k{random.Next(keys)}";
        string value = $"c{client}-{seq}"; // unique per write, so a read names the write it saw
        int roll = random.Next(100);
        int outcome = random.Next(100); // < 4 failed, < 8 timed out, else ok
        bool apply = outcome >= 4 && (outcome >= 8 || random.Next(2) == 0);

        HistoryHandle handle;
        Func<(string? Output, bool? Swapped, IReadOnlyList<HistoryTxnOp>? Txn)> body;
        if (txns && roll < 10)
        {
            // Two of the first three keys, so txn keys form one partition next to single-key ones.
            string first = $"k{random.Next(Math.Min(3, keys))}";
            string second = $"k{random.Next(Math.Min(3, keys))}";
            HistoryTxnOp[] ops = random.Next(2) == 0
                ? [new() { Op = HistoryOpKind.Get, Key = first }, new() { Op = HistoryOpKind.Get, Key = second }]
                : [new() { Op = HistoryOpKind.Put, Key = first, Value = value + "a" }, new() { Op = HistoryOpKind.Get, Key = second }, new() { Op = HistoryOpKind.Put, Key = second, Value = value + "b" }];
            handle = recorder.InvokeTxn(client, ops);
            body = () =>
            {
                var results = new List<HistoryTxnOp>();
                foreach (HistoryTxnOp op in ops)
                {
                    if (op.Op == HistoryOpKind.Put)
                    {
                        store[op.Key] = op.Value!;
                        results.Add(op);
                    }
                    else
                    {
                        results.Add(op with { Output = store.GetValueOrDefault(op.Key) });
                    }
                }

                return (null, null, results);
            };
        }
        else if (roll < 50)
        {
            handle = recorder.Invoke(client, HistoryOpKind.Get, key);
            body = () => (store.GetValueOrDefault(key), null, null);
        }
        else if (roll < 75)
        {
            handle = recorder.Invoke(client, HistoryOpKind.Put, key, value);
            body = () =>
            {
                store[key] = value;
                return (null, null, null);
            };
        }
        else if (roll < 85)
        {
            handle = recorder.Invoke(client, HistoryOpKind.Delete, key);
            body = () =>
            {
                store.Remove(key);
                return (null, null, null);
            };
        }
        else
        {
            // Expect what is there now (often still true under the lock) or something stale.
            string? expected;
            lock (storeLock)
            {
                expected = random.Next(3) == 0 ? null : store.GetValueOrDefault(key);
            }

            handle = recorder.Invoke(client, HistoryOpKind.Cas, key, value, expected);
            body = () =>
            {
                bool swapped = store.GetValueOrDefault(key) == expected;
                if (swapped)
                {
                    store[key] = value;
                }

                return (null, swapped, null);
            };
        }

        Delay(random);
        (string? output, bool? swappedResult, IReadOnlyList<HistoryTxnOp>? txn) = (null, null, null);
        if (apply)
        {
            lock (storeLock)
            {
                (output, swappedResult, txn) = body();
            }
        }

        Delay(random);
        if (outcome < 4)
        {
            recorder.Complete(handle, ok: false);
        }
        else if (outcome < 8)
        {
            recorder.Unknown(handle);
        }
        else
        {
            recorder.Complete(handle, ok: true, output, swappedResult, txn);
        }
    }

    private static void Delay(Random random)
    {
        int roll = random.Next(10);
        if (roll < 5)
        {
            Thread.SpinWait(random.Next(1, 300));
        }
        else if (roll < 8)
        {
            Thread.Yield();
        }
        else if (roll == 8)
        {
            Thread.Sleep(0);
        }
    }

    /// <summary>
    /// Picks a successful get and rewrites its output to a value that was certainly overwritten before the get was
    /// called: a put P of that value returned, then another write W (put, delete, swapping cas) was called after P
    /// returned and returned before the get was called. Values are unique, so nothing can write P's value again:
    /// the mutated history cannot be linearizable. Returns null if the history has no such triple.
    /// </summary>
    public static (IReadOnlyList<HistoryOperation> History, HistoryOperation Mutated)? MutateOneReadToStale(
        IReadOnlyList<HistoryOperation> history,
        Random random)
    {
        bool Overwrites(HistoryOperation op) => op.Ok == true && op.Op switch
        {
            HistoryOpKind.Put or HistoryOpKind.Delete => true,
            HistoryOpKind.Cas => op.Swapped == true,
            _ => false,
        };

        int[] gets = [.. Enumerable.Range(0, history.Count).Where(i => history[i].Op == HistoryOpKind.Get && history[i].Ok == true)];
        random.Shuffle(gets);
        foreach (int g in gets)
        {
            HistoryOperation get = history[g];
            HistoryOperation? stale = history.FirstOrDefault(p =>
                p.Key == get.Key && p.Ok == true && p.Op == HistoryOpKind.Put && p.Value != get.Output
                && history.Any(w => w.Key == get.Key && Overwrites(w) && w.CallNs > p.ReturnNs && w.ReturnNs < get.CallNs));
            if (stale is not null)
            {
                HistoryOperation mutated = get with { Output = stale.Value };
                HistoryOperation[] copy = [.. history];
                copy[g] = mutated;
                return (copy, mutated);
            }
        }

        return null;
    }
}
