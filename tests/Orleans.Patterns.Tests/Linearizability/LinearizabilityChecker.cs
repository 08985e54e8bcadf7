using System.Diagnostics;
using Orleans.Patterns.History;

namespace Orleans.Patterns.Tests.Linearizability;

/// <summary>
/// Checks a recorded history for linearizability against <see cref="KvModel"/>.
/// </summary>
/// <remarks>
/// <para><b>Partitioning.</b> Linearizability is local (Herlihy &amp; Wing 1990): a history is linearizable iff each
/// object's sub-history is. Each key is an object, so the history is split per key and each part searched alone —
/// the P-compositionality idea of the Porcupine checker — which turns one exponential search into many small ones.
/// A txn touches several keys, so keys joined by any txn (transitively, via union-find) form one partition whose
/// state is the vector of those keys' values.</para>
/// <para><b>Filtering.</b> <c>ok: false</c> operations did not take effect and are dropped. Unknown-outcome
/// (<c>ok: null</c>) reads are dropped too: they change nothing and their output is unknown, so they constrain
/// nothing. Unknown-outcome writes stay, with their return at +infinity: they may take effect at any point after
/// their call, or never.</para>
/// <para><b>Search.</b> Wing &amp; Gong's (1993) backtracking search with Lowe's (2017, "Testing for
/// linearizability") refinements: calls and returns sit in one time-ordered doubly linked list; the search walks it
/// from the front and, at a call, tries to linearize that operation now ("just in time"): if the model accepts it
/// and the pair (set of linearized operations, model state) was never seen, the call and its return are unlinked
/// and the walk restarts from the front. At a return whose operation is not linearized yet, no extension of the
/// current prefix can work, so the last choice is undone. The memo of (bitset, state) pairs is Lowe's: two prefixes
/// with the same operations and the same resulting state have the same futures, so each is explored once. The search
/// succeeds once every operation that must take effect (<c>ok: true</c>) is linearized; unknown ones may be left
/// out, and since their returns are at +infinity the walk never has to backtrack over them.</para>
/// <para><b>Limits.</b> Worst case is exponential in the number of mutually concurrent operations of a partition
/// (Gibbons &amp; Korach 1997: NP-complete in general); memory is one bitset per memo entry. A
/// <see cref="CheckerBudget"/> bounds time and steps and yields <see cref="LinearizabilityOutcome.Inconclusive"/>
/// instead of hanging. Equal timestamps count as concurrent (calls sort before returns), which can only accept more.</para>
/// </remarks>
internal static class LinearizabilityChecker
{
    public static LinearizabilityResult Check(IReadOnlyList<HistoryOperation> history, CheckerBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        budget ??= CheckerBudget.Default;
        var clock = Stopwatch.StartNew();
        List<Partition> partitions = PartitionHistory(history);
        int operations = partitions.Sum(p => p.Operations.Count);
        long steps = 0;
        string? inconclusive = null;

        // Small partitions first: a violation in one of them is found without waiting on a big one.
        foreach (Partition partition in partitions.OrderBy(p => p.Operations.Count))
        {
            var search = new Search(partition, budget, clock, steps);
            LinearizabilityOutcome outcome = search.Run();
            steps = search.Steps;
            if (outcome == LinearizabilityOutcome.NotLinearizable)
            {
                return new(outcome, search.Violation, null, partitions.Count, operations, steps, clock.Elapsed);
            }

            if (outcome == LinearizabilityOutcome.Inconclusive)
            {
                inconclusive = $"budget ({budget.Timeout}, {budget.MaxSteps} steps) exhausted on key(s) {string.Join(", ", partition.Keys)} ({partition.Operations.Count} ops)";
                break;
            }
        }

        return inconclusive is null
            ? new(LinearizabilityOutcome.Linearizable, null, null, partitions.Count, operations, steps, clock.Elapsed)
            : new(LinearizabilityOutcome.Inconclusive, null, inconclusive, partitions.Count, operations, steps, clock.Elapsed);
    }

    private static List<Partition> PartitionHistory(IReadOnlyList<HistoryOperation> history)
    {
        var keyIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var parent = new List<int>();
        var kept = new List<HistoryOperation>();

        int KeyId(string key)
        {
            if (!keyIds.TryGetValue(key, out int id))
            {
                id = keyIds.Count;
                keyIds.Add(key, id);
                parent.Add(id);
            }

            return id;
        }

        int Find(int id)
        {
            while (parent[id] != id)
            {
                parent[id] = parent[parent[id]];
                id = parent[id];
            }

            return id;
        }

        foreach (HistoryOperation op in history)
        {
            if (op.Ok == false || (op.Ok is null && !Writes(op)))
            {
                continue;
            }

            kept.Add(op);
            if (op.Op != HistoryOpKind.Txn)
            {
                KeyId(op.Key!);
                continue;
            }

            int? first = null;
            foreach (HistoryTxnOp sub in op.Ops!)
            {
                int id = Find(KeyId(sub.Key));
                first ??= id;
                parent[id] = Find(first.Value);
            }
        }

        var byRoot = new Dictionary<int, Partition>();
        foreach (HistoryOperation op in kept)
        {
            string anyKey = op.Op == HistoryOpKind.Txn ? op.Ops![0].Key : op.Key!;
            int root = Find(keyIds[anyKey]);
            if (!byRoot.TryGetValue(root, out Partition? partition))
            {
                partition = new Partition();
                byRoot.Add(root, partition);
            }

            partition.Operations.Add(op);
        }

        foreach ((string key, int id) in keyIds)
        {
            if (byRoot.TryGetValue(Find(id), out Partition? partition))
            {
                partition.Keys.Add(key);
            }
        }

        return [.. byRoot.Values];
    }

    private static bool Writes(HistoryOperation op) => op.Op switch
    {
        HistoryOpKind.Get => false,
        HistoryOpKind.Txn => op.Ops!.Any(s => s.Op != HistoryOpKind.Get),
        _ => true,
    };

    private sealed class Partition
    {
        public List<string> Keys { get; } = [];

        public List<HistoryOperation> Operations { get; } = [];
    }

    /// <summary>The search over one partition; see the class remarks.</summary>
    private sealed class Search
    {
        private const int Head = 0;
        private const int None = -1;

        private readonly Partition _partition;
        private readonly CheckerBudget _budget;
        private readonly Stopwatch _clock;
        private readonly List<string> _values = [null!]; // interned values; 0 = absent
        private readonly Dictionary<string, int> _valueIds = new(StringComparer.Ordinal);
        private readonly ModelOp[] _ops;

        // Doubly linked list of events: node 0 is the head, nodes 1..2n are calls and returns in time order.
        private readonly int[] _next;
        private readonly int[] _prev;
        private readonly int[] _nodeOp;
        private readonly bool[] _nodeIsCall;
        private readonly int[] _returnNode;

        private int _bestDepth = -1;

        public Search(Partition partition, CheckerBudget budget, Stopwatch clock, long steps)
        {
            _partition = partition;
            _budget = budget;
            _clock = clock;
            Steps = steps;
            var keyIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < partition.Keys.Count; i++)
            {
                keyIndex.Add(partition.Keys[i], i);
            }

            List<HistoryOperation> operations = partition.Operations;
            int n = operations.Count;
            _ops = new ModelOp[n];
            var events = new (long Time, int Kind, int Op)[2 * n];
            for (int i = 0; i < n; i++)
            {
                _ops[i] = Compile(operations[i], keyIndex);

                // Calls sort before returns at the same instant: touching intervals count as concurrent.
                events[2 * i] = (operations[i].CallNs, 0, i);
                events[(2 * i) + 1] = (operations[i].ReturnNs ?? long.MaxValue, 1, i);
            }

            Array.Sort(events);
            _next = new int[(2 * n) + 1];
            _prev = new int[(2 * n) + 1];
            _nodeOp = new int[(2 * n) + 1];
            _nodeIsCall = new bool[(2 * n) + 1];
            _returnNode = new int[n];
            for (int node = 0; node <= 2 * n; node++)
            {
                _next[node] = node == 2 * n ? None : node + 1;
                _prev[node] = node - 1;
                if (node > 0)
                {
                    (_, int kind, int op) = events[node - 1];
                    _nodeOp[node] = op;
                    _nodeIsCall[node] = kind == 0;
                    if (kind == 1)
                    {
                        _returnNode[op] = node;
                    }
                }
            }
        }

        public long Steps { get; private set; }

        public LinearizabilityViolation? Violation { get; private set; }

        public LinearizabilityOutcome Run()
        {
            List<HistoryOperation> operations = _partition.Operations;
            int n = operations.Count;
            int mustTakeEffect = operations.Count(o => o.Ok == true);
            if (mustTakeEffect == 0)
            {
                return LinearizabilityOutcome.Linearizable;
            }

            // Zobrist hashing: the linearized set's hash is kept up to date with one xor per change.
            var random = new Random(n);
            var zobrist = new ulong[n];
            for (int i = 0; i < n; i++)
            {
                zobrist[i] = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
            }

            var linearized = new ulong[(n + 63) / 64];
            ulong linearizedHash = 0;
            var memo = new HashSet<MemoEntry>(MemoComparer.Instance);
            var stack = new (int CallNode, int[] StateBefore)[n];
            int depth = 0;
            int[] state = new int[_partition.Keys.Count];
            int entry = _next[Head];
            long deadlineCheck = Steps + 4096;

            while (true)
            {
                if (++Steps >= deadlineCheck)
                {
                    deadlineCheck = Steps + 4096;
                    if (Steps >= _budget.MaxSteps || _clock.Elapsed >= _budget.Timeout)
                    {
                        return LinearizabilityOutcome.Inconclusive;
                    }
                }

                if (entry != None && _nodeIsCall[entry])
                {
                    int op = _nodeOp[entry];
                    if (KvModel.Step(state, _ops[op], out int[] after))
                    {
                        linearized[op >> 6] |= 1UL << op;
                        linearizedHash ^= zobrist[op];
                        var probe = new MemoEntry(linearizedHash, linearized, after);
                        if (!memo.Contains(probe))
                        {
                            memo.Add(probe with { Linearized = (ulong[])linearized.Clone() });
                            stack[depth++] = (entry, state);
                            state = after;
                            if (operations[op].Ok == true && --mustTakeEffect == 0)
                            {
                                return LinearizabilityOutcome.Linearizable;
                            }

                            Lift(entry);
                            entry = _next[Head];
                            continue;
                        }

                        linearized[op >> 6] &= ~(1UL << op);
                        linearizedHash ^= zobrist[op];
                    }

                    entry = _next[entry];
                    continue;
                }

                // A return (or, defensively, the end of the list) before its operation could be linearized.
                if (depth > _bestDepth)
                {
                    RecordBest(stack, depth, state, entry);
                }

                if (depth == 0)
                {
                    return LinearizabilityOutcome.NotLinearizable;
                }

                (int callNode, int[] before) = stack[--depth];
                int undone = _nodeOp[callNode];
                state = before;
                linearized[undone >> 6] &= ~(1UL << undone);
                linearizedHash ^= zobrist[undone];
                if (operations[undone].Ok == true)
                {
                    mustTakeEffect++;
                }

                Unlift(callNode);
                entry = _next[callNode];
            }
        }

        private void Lift(int callNode)
        {
            int returnNode = _returnNode[_nodeOp[callNode]];
            Unlink(callNode);
            Unlink(returnNode);
        }

        // Dancing links: the removed nodes still point at their old neighbours, so relinking in reverse order restores the list.
        private void Unlift(int callNode)
        {
            int returnNode = _returnNode[_nodeOp[callNode]];
            Relink(returnNode);
            Relink(callNode);
        }

        private void Unlink(int node)
        {
            _next[_prev[node]] = _next[node];
            if (_next[node] != None)
            {
                _prev[_next[node]] = _prev[node];
            }
        }

        private void Relink(int node)
        {
            _next[_prev[node]] = node;
            if (_next[node] != None)
            {
                _prev[_next[node]] = node;
            }
        }

        private void RecordBest((int CallNode, int[] StateBefore)[] stack, int depth, int[] state, int blockedNode)
        {
            _bestDepth = depth;
            List<HistoryOperation> operations = _partition.Operations;
            var candidates = new List<HistoryOperation>();
            for (int node = _next[Head]; node != None && node != blockedNode; node = _next[node])
            {
                if (_nodeIsCall[node])
                {
                    candidates.Add(operations[_nodeOp[node]]);
                }
            }

            var stateView = new Dictionary<string, string?>(StringComparer.Ordinal);
            for (int k = 0; k < state.Length; k++)
            {
                stateView[_partition.Keys[k]] = state[k] == 0 ? null : _values[state[k]];
            }

            Violation = new LinearizabilityViolation(
                _partition.Keys,
                [.. stack.Take(depth).Select(s => operations[_nodeOp[s.CallNode]])],
                stateView,
                blockedNode == None ? candidates.LastOrDefault() ?? operations[0] : operations[_nodeOp[blockedNode]],
                candidates);
        }

        private ModelOp Compile(HistoryOperation op, Dictionary<string, int> keyIndex)
        {
            if (op.Op != HistoryOpKind.Txn)
            {
                return Compile(op.Op, keyIndex[op.Key!], op.Value, op.Expected, op.Output, op.Swapped, op.Ok == true);
            }

            ModelOp[] subs = [.. op.Ops!.Select(s => Compile(s.Op, keyIndex[s.Key], s.Value, s.Expected, s.Output, s.Swapped, op.Ok == true))];
            return new ModelOp(HistoryOpKind.Txn, 0, 0, 0, ModelOp.UnknownOutput, null, subs);
        }

        private ModelOp Compile(HistoryOpKind kind, int key, string? value, string? expected, string? output, bool? swapped, bool known) =>
            new(
                kind,
                key,
                Intern(value),
                Intern(expected),
                known && kind == HistoryOpKind.Get ? Intern(output) : ModelOp.UnknownOutput,
                known && kind == HistoryOpKind.Cas ? swapped : null,
                null);

        private int Intern(string? value)
        {
            if (value is null)
            {
                return 0;
            }

            if (!_valueIds.TryGetValue(value, out int id))
            {
                id = _values.Count;
                _values.Add(value);
                _valueIds.Add(value, id);
            }

            return id;
        }
    }

    private sealed record MemoEntry(ulong LinearizedHash, ulong[] Linearized, int[] State);

    private sealed class MemoComparer : IEqualityComparer<MemoEntry>
    {
        public static MemoComparer Instance { get; } = new();

        public bool Equals(MemoEntry? x, MemoEntry? y) =>
            x!.LinearizedHash == y!.LinearizedHash
            && (ReferenceEquals(x.State, y.State) || x.State.AsSpan().SequenceEqual(y.State))
            && x.Linearized.AsSpan().SequenceEqual(y.Linearized);

        public int GetHashCode(MemoEntry obj)
        {
            var hash = new HashCode();
            hash.Add(obj.LinearizedHash);
            foreach (int value in obj.State)
            {
                hash.Add(value);
            }

            return hash.ToHashCode();
        }
    }
}
