using Orleans.Patterns.History;

namespace Orleans.Patterns.Tests.Linearizability;

/// <summary>
/// An operation compiled for one partition: keys are indices into the partition's key table and values are
/// interned to ints (0 = absent), so a model state is a small int array that is cheap to hash and compare.
/// </summary>
internal sealed record ModelOp(HistoryOpKind Kind, int Key, int Value, int Expected, int Output, bool? Swapped, ModelOp[]? Subs)
{
    /// <summary><see cref="Output"/> when the read's result is not known (the op's outcome was unknown).</summary>
    public const int UnknownOutput = -1;
}

/// <summary>
/// The sequential specification the history is checked against: a map from key to value, where each key is a
/// register with put, get, delete and compare-and-swap, and a txn applies its sub-operations atomically in order.
/// States are immutable: a step that changes nothing returns the same array, one that writes returns a copy.
/// </summary>
internal static class KvModel
{
    /// <summary>Applies <paramref name="op"/> to <paramref name="state"/>; false if the op's recorded outputs are impossible there.</summary>
    public static bool Step(int[] state, ModelOp op, out int[] next)
    {
        next = state;
        bool copied = false;
        if (op.Kind != HistoryOpKind.Txn)
        {
            return Apply(ref next, ref copied, op);
        }

        foreach (ModelOp sub in op.Subs!)
        {
            if (!Apply(ref next, ref copied, sub))
            {
                next = state;
                return false;
            }
        }

        return true;
    }

    private static bool Apply(ref int[] state, ref bool copied, ModelOp op)
    {
        int current = state[op.Key];
        switch (op.Kind)
        {
            case HistoryOpKind.Put:
                Write(ref state, ref copied, op.Key, op.Value);
                return true;
            case HistoryOpKind.Get:
                return op.Output == ModelOp.UnknownOutput || current == op.Output;
            case HistoryOpKind.Delete:
                Write(ref state, ref copied, op.Key, 0);
                return true;
            case HistoryOpKind.Cas:
                bool matches = current == op.Expected;
                if (op.Swapped is { } swapped && swapped != matches)
                {
                    return false;
                }

                // Outcome unknown (or not reported): the comparison decides, as the real store would have.
                if (matches)
                {
                    Write(ref state, ref copied, op.Key, op.Value);
                }

                return true;
            default:
                throw new InvalidOperationException($"{op.Kind} cannot be a sub-operation.");
        }
    }

    private static void Write(ref int[] state, ref bool copied, int key, int value)
    {
        if (state[key] == value)
        {
            return;
        }

        if (!copied)
        {
            state = (int[])state.Clone();
            copied = true;
        }

        state[key] = value;
    }
}
