namespace Orleans.Patterns.Coordination;

public sealed partial class MvccStore
{
    /// <summary>
    /// The events of a key or range from the request's start revision on, in revision order and, within a revision, in
    /// the order its writes happened. A start below the compacted revision is refused naming it; a start after the
    /// current revision yields nothing yet.
    /// </summary>
    public WatchResponse Watch(WatchRequest request)
    {
        ValidateKey(request.Key);
        var start = request.StartRevision > 0 ? request.StartRevision : Revision + 1;
        if (start < CompactRevision)
        {
            throw CoordinationException.Compacted(CompactRevision);
        }

        var changes = new List<(long Main, int Sub, Event Event)>();
        foreach (var history in InRange(request.Key, request.RangeEnd))
        {
            var entries = history.Entries;
            for (var i = entries.Count - 1; i >= 0 && entries[i].Main >= start; i--)
            {
                var entry = entries[i];
                var type = entry.Kv is null ? EventType.Delete : EventType.Put;
                if ((type == EventType.Put && request.NoPut) || (type == EventType.Delete && request.NoDelete))
                {
                    continue;
                }

                // Compaction keeps the version live before the oldest kept change, so a previous value is never lost.
                var previous = request.PrevKv && i > 0 ? entries[i - 1].Kv : null;
                var kv = entry.Kv ?? new KeyValue(history.Key, 0, entry.Main, 0, [], 0);
                changes.Add((entry.Main, entry.Sub, new Event(type, kv, previous)));
            }
        }

        changes.Sort((a, b) => a.Main != b.Main ? a.Main.CompareTo(b.Main) : a.Sub.CompareTo(b.Sub));
        return new WatchResponse(Revision, changes.ConvertAll(c => c.Event));
    }
}
