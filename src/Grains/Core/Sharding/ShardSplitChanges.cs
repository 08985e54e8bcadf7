using System.Text;

namespace Orleans.Patterns.Sharding;

/// <summary>How the splits of a <see cref="ShardMap"/> changed between two epochs.</summary>
/// <param name="Added">Splits of the later map only, ascending by shard.</param>
/// <param name="Removed">Splits of the earlier map only (merged, or re-split to another child), ascending by shard.</param>
public sealed record ShardSplitChanges(IReadOnlyList<ShardSplit> Added, IReadOnlyList<ShardSplit> Removed)
{
    /// <summary>Whether no split was added or removed.</summary>
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0;

    /// <summary>For logs: <c>splits +2 [12→silo-3, 40→silo-1], -1 [7→silo-2]</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("splits +").Append(Added.Count);
        Append(Added);
        text.Append(", -").Append(Removed.Count);
        Append(Removed);
        return text.ToString();

        void Append(IReadOnlyList<ShardSplit> splits)
        {
            if (splits.Count > 0)
            {
                text.Append(" [").AppendJoin(", ", splits.Select(s => $"{s.Shard}→{s.ChildOwner}")).Append(']');
            }
        }
    }
}
