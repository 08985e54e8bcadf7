using System.Text;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>The replicated state machine of the simulation: commands are <c>key=value</c> puts.</summary>
internal sealed class KvStateMachine
{
    private readonly Dictionary<string, string> _values = [];

    public long AppliedIndex { get; private set; }

    public IReadOnlyDictionary<string, string> Values => _values;

    public static ReadOnlyMemory<byte> Command(string key, string value) => Encoding.UTF8.GetBytes($"{key}={value}");

    public static string Describe(LogEntry entry) => entry.Kind switch
    {
        EntryKind.Command => Encoding.UTF8.GetString(entry.Data.Span),
        EntryKind.NoOp => "<noop>",
        _ => "<config " + string.Join(",", ClusterConfig.Decode(entry.Data.Span).Voters) + ">",
    };

    public void Apply(LogEntry entry)
    {
        if (entry.Index != AppliedIndex + 1)
        {
            throw new InvalidOperationException($"applying {entry.Index} after {AppliedIndex}");
        }

        AppliedIndex = entry.Index;
        if (entry.Kind == EntryKind.Command)
        {
            var text = Encoding.UTF8.GetString(entry.Data.Span);
            var split = text.IndexOf('=', StringComparison.Ordinal);
            _values[text[..split]] = text[(split + 1)..];
        }
    }

    public byte[] Save()
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in _values.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            builder.Append(key).Append('=').Append(value).Append('\n');
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    public void Restore(Snapshot? snapshot)
    {
        _values.Clear();
        AppliedIndex = snapshot?.Metadata.Index ?? 0;
        if (snapshot is null)
        {
            return;
        }

        foreach (var line in Encoding.UTF8.GetString(snapshot.Data.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var split = line.IndexOf('=', StringComparison.Ordinal);
            _values[line[..split]] = line[(split + 1)..];
        }
    }
}
