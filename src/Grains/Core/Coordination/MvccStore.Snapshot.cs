namespace Orleans.Patterns.Coordination;

public sealed partial class MvccStore
{
    internal void WriteTo(CodecWriter w)
    {
        w.Long(Revision);
        w.Long(CompactRevision);
        w.Long(_lastLeaseId);
        w.Count(_keys.Count);
        foreach (var history in _keys.Values)
        {
            w.Bytes(history.Key);
            w.Count(history.Entries.Count);
            foreach (var entry in history.Entries)
            {
                w.Long(entry.Main);
                w.Long(entry.Sub);
                w.Bool(entry.Kv is not null);
                if (entry.Kv is not null)
                {
                    w.Long(entry.Kv.CreateRevision);
                    w.Long(entry.Kv.Version);
                    w.Bytes(entry.Kv.Value);
                    w.Long(entry.Kv.Lease);
                }
            }
        }

        // A lease's keys are not written: they are the live keys that name it.
        w.Count(_leases.Count);
        foreach (var lease in _leases.Values)
        {
            w.Long(lease.ID);
            w.Long(lease.TTL);
            w.Long(lease.DeadlineMillis);
        }
    }

    internal static MvccStore ReadFrom(CodecReader r, CoordinationLimits limits)
    {
        var store = new MvccStore(limits)
        {
            Revision = r.Long("revision"),
            CompactRevision = r.Long("compact revision"),
            _lastLeaseId = r.Long("last lease id"),
        };
        for (var i = r.Count("keys"); i > 0; i--)
        {
            var history = new KeyHistory(r.Bytes("key"));
            if (!store._keys.TryAdd(history.Key, history))
            {
                throw r.Garbage("a key appears twice");
            }

            for (var j = r.Count("key revisions"); j > 0; j--)
            {
                var main = r.Long("revision");
                var sub = r.Long("sub revision");
                if (sub is < 0 or > int.MaxValue)
                {
                    throw r.Garbage($"sub revision {sub} is out of range");
                }

                KeyValue? kv = r.Bool("live") ? new KeyValue(history.Key, r.Long("create_revision"), main, r.Long("version"), r.Bytes("value"), r.Long("lease")) : null;
                history.Entries.Add(new KeyRevision(main, (int)sub, kv));
            }
        }

        for (var i = r.Count("leases"); i > 0; i--)
        {
            var lease = new LeaseState(r.Long("lease id"), r.Long("lease TTL")) { DeadlineMillis = r.Long("lease deadline") };
            if (!store._leases.TryAdd(lease.ID, lease))
            {
                throw r.Garbage($"lease {lease.ID} appears twice");
            }
        }

        foreach (var history in store._keys.Values)
        {
            if (history.Current is { Lease: not 0 } kv)
            {
                if (!store._leases.TryGetValue(kv.Lease, out var lease))
                {
                    throw r.Garbage($"key attached to unknown lease {kv.Lease}");
                }

                lease.Keys.Add(history.Key);
            }
        }

        return store;
    }
}
