using System.Collections.Immutable;
using CsCheck;
using Orleans.Patterns.Coordination;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

/// <summary>
/// Random puts, deletes, transactions and compactions against the store and against a plain sorted dictionary that
/// keeps every revision's contents: after each step the current contents and revision agree; at the end so does every
/// revision not compacted away (older ones are refused), and the watch feed is exactly the difference between
/// consecutive revisions, with the previous versions.
/// </summary>
/// <remarks>
/// On failure CsCheck shrinks the input and prints its seed. To replay exactly that case, pass it to the failing
/// <c>Sample</c> call (<c>seed: "..."</c>) or set the <c>CsCheck_Seed</c> environment variable and rerun the test.
/// </remarks>
[Trait("Category", "Unit")]
public sealed class MvccStoreModelTests
{
    private static readonly string[] KeyNames = ["a", "ab", "b", "b/1", "b/2", "c"];

    private static readonly Gen<string> Key = Gen.Int[0, KeyNames.Length - 1].Select(i => KeyNames[i]);
    private static readonly Gen<string> Value = Gen.Char["xyz"].Array[1, 2].Select(chars => new string(chars));

    // Put k v | Delete k [end) | Txn: if value(c) == v then put k1 v1; delete k2 else put k3 v3
    private static readonly Gen<Step> AnyStep = Gen.Frequency(
        (5, Gen.Select(Key, Value).Select((k, v) => (Step)new PutStep(k, v))),
        (2, Gen.Select(Key, Gen.Int[0, 2], Key).Select((k, form, end) => (Step)new DeleteStep(k, form == 0 ? "" : form == 1 ? "\0" : end))),
        (3, Gen.Select(Key, Value, Key, Value, Key, Key, Value).Select((c, expected, k1, v1, k2, k3, v3) => (Step)new TxnStep(c, expected, k1, v1, k2, k3, v3))),
        (1, Gen.Int[0, 100].Select(percent => (Step)new CompactStep(percent))));

    [Fact]
    public void TheStoreAgreesWithADictionaryAtEveryRevision() =>
        AnyStep.Array[1, 80].Sample(steps =>
        {
            var store = new MvccStore();
            var model = new Model();
            foreach (var step in steps)
            {
                step.Apply(store, model);
                Assert.Equal(model.Revision, store.Revision);
                Assert.Equal(model.Current.Values, Read(store, 0));
            }

            for (var revision = 1L; revision <= model.Revision; revision++)
            {
                if (revision < model.Compacted)
                {
                    Assert.Equal(model.Compacted, Assert.Throws<CoordinationException>(() => Read(store, revision)).Error.Revision);
                }
                else
                {
                    Assert.Equal(model.History[revision].Values, Read(store, revision));
                }
            }

            var start = Math.Max(2, model.Compacted);
            var events = store.Watch(new WatchRequest(B("a")) { RangeEnd = ByteKeys.AllFrom, StartRevision = start, PrevKv = true }).Events;
            var expected = Enumerable.Range((int)start, (int)Math.Max(0, model.Revision - start + 1)).SelectMany(r => model.Changes(r));
            Assert.Equal(expected, events.OrderBy(e => e.Kv.ModRevision).ThenBy(e => e.Kv.Key, ByteKeys.Comparer));
        }, iter: 500);

    private static IEnumerable<KeyValue> Read(MvccStore store, long revision) =>
        store.Range(new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom, Revision = revision }).Kvs;

    private sealed class Model
    {
        public ImmutableSortedDictionary<string, KeyValue> Current { get; private set; } = ImmutableSortedDictionary.Create<string, KeyValue>(StringComparer.Ordinal);

        public Dictionary<long, ImmutableSortedDictionary<string, KeyValue>> History { get; } = [];

        public long Revision { get; private set; } = 1;

        public long Compacted { get; set; }

        public Model() => History[1] = Current;

        public KeyValue? Get(string key) => Current.GetValueOrDefault(key);

        /// <summary>Applies the writes of one request; the revision moves once if anything changed.</summary>
        public void Write(IEnumerable<(string Key, string? Value)> writes)
        {
            var next = Current;
            var revision = Revision + 1;
            var changed = false;
            foreach (var (key, value) in writes)
            {
                if (value is null)
                {
                    changed |= next.ContainsKey(key);
                    next = next.Remove(key);
                }
                else
                {
                    var previous = next.GetValueOrDefault(key);
                    next = next.SetItem(key, new KeyValue(B(key), previous?.CreateRevision ?? revision, revision, (previous?.Version ?? 0) + 1, B(value), 0));
                    changed = true;
                }
            }

            if (changed)
            {
                Revision = revision;
                Current = next;
                History[revision] = next;
            }
        }

        /// <summary>The events of one revision, in key order: what differs from the revision before.</summary>
        public IEnumerable<Event> Changes(long revision)
        {
            if (!History.TryGetValue(revision, out var after))
            {
                yield break;
            }

            var before = History[History.Keys.Where(r => r < revision).Max()];
            foreach (var key in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
            {
                var previous = before.GetValueOrDefault(key);
                var current = after.GetValueOrDefault(key);
                if (current is not null && !current.Equals(previous))
                {
                    yield return new Event(EventType.Put, current, previous);
                }
                else if (current is null && previous is not null)
                {
                    yield return new Event(EventType.Delete, new KeyValue(B(key), 0, revision, 0, [], 0), previous);
                }
            }
        }

        public IEnumerable<string> InRange(string key, string end) =>
            Current.Keys.Where(k => end.Length == 0 ? k == key : string.CompareOrdinal(k, key) >= 0 && (end == "\0" || string.CompareOrdinal(k, end) < 0));
    }

    private abstract record Step
    {
        public abstract void Apply(MvccStore store, Model model);
    }

    private sealed record PutStep(string Key, string Value) : Step
    {
        public override void Apply(MvccStore store, Model model)
        {
            var response = store.Put(new PutRequest(B(Key), B(Value)) { PrevKv = true });
            Assert.Equal(model.Get(Key), response.PrevKv);
            model.Write([(Key, Value)]);
        }
    }

    private sealed record DeleteStep(string Key, string End) : Step
    {
        public override void Apply(MvccStore store, Model model)
        {
            var doomed = model.InRange(Key, End).ToList();
            var response = store.DeleteRange(new DeleteRangeRequest(B(Key)) { RangeEnd = B(End), PrevKv = true });
            Assert.Equal(doomed.Select(k => model.Current[k]), response.PrevKvs);
            model.Write(doomed.Select(k => (k, (string?)null)));
        }
    }

    private sealed record CompactStep(int Percent) : Step
    {
        public override void Apply(MvccStore store, Model model)
        {
            var revision = model.Compacted + 1 + ((model.Revision - model.Compacted) * Percent / 100);
            if (revision > model.Revision)
            {
                Assert.Throws<CoordinationException>(() => store.Compact(new CompactionRequest(revision)));
                return;
            }

            store.Compact(new CompactionRequest(revision));
            model.Compacted = revision;
        }
    }

    private sealed record TxnStep(string Compared, string Expected, string Put, string PutValue, string Deleted, string Otherwise, string OtherwiseValue) : Step
    {
        public override void Apply(MvccStore store, Model model)
        {
            var compare = new Compare(B(Compared), CompareTarget.Value, CompareResult.Equal) { Value = B(Expected) };
            RequestOp[] success = Put == Deleted
                ? [new PutRequest(B(Put), B(PutValue))]
                : [new PutRequest(B(Put), B(PutValue)), new DeleteRangeRequest(B(Deleted))];
            var response = store.Txn(new TxnRequest([compare], success, [new PutRequest(B(Otherwise), B(OtherwiseValue))]));

            var holds = model.Get(Compared) is { } kv && S(kv.Value) == Expected;
            Assert.Equal(holds, response.Succeeded);
            model.Write(holds
                ? Put == Deleted ? [(Put, PutValue)] : [(Put, PutValue), (Deleted, null)]
                : [(Otherwise, OtherwiseValue)]);
        }
    }
}
