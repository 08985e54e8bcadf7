using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// The shard map's wire and storage form: one line of text, so it can be a value in the Raft key/value store and
/// travel in a grain call unchanged. <c>shardmap/1;{epoch};{shard count};{members, base64 of UTF-8, comma-separated};{owner
/// indexes, base64 of little-endian 16-bit integers}[;{splits}]</c>. The optional sixth part lists the split shards as
/// comma-separated <c>shard:childMemberIndex</c> pairs, ascending by shard; it is written only when the map has splits,
/// so a map without splits encodes as before and older five-part text still decodes. Every process that decodes the
/// same text gets an identical map.
/// </summary>
public static class ShardMapCodec
{
    /// <summary>The format tag at the start of every encoded map.</summary>
    public const string Tag = "shardmap/1";

    /// <summary>Encodes <paramref name="map"/>.</summary>
    public static string Encode(ShardMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var owners = new byte[map.ShardCount * sizeof(ushort)];
        ReadOnlySpan<int> indexes = map.OwnerIndexes;
        for (int shard = 0; shard < indexes.Length; shard++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(owners.AsSpan(shard * sizeof(ushort)), checked((ushort)indexes[shard]));
        }

        var members = string.Join(',', map.Members.Select(m => Convert.ToBase64String(Encoding.UTF8.GetBytes(m))));
        string text = $"{Tag};{map.Epoch};{map.ShardCount};{members};{Convert.ToBase64String(owners)}";
        if (map.Splits.Count == 0)
        {
            return text;
        }

        // Member indexes, like the owner table: the members part already spells each name once.
        int[] children = map.ChildOwnerIndexes.ToArray();
        var splits = map.Splits.Select(split => string.Create(CultureInfo.InvariantCulture, $"{split.Shard}:{children[split.Shard]}"));
        return $"{text};{string.Join(',', splits)}";
    }

    /// <summary>Decodes a map made by <see cref="Encode"/>.</summary>
    /// <exception cref="FormatException">The text is not an encoded shard map; the message names the part that is wrong.</exception>
    public static ShardMap Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(';');
        if (parts.Length is not (5 or 6) || parts[0] != Tag)
        {
            throw new FormatException(
                $"Not an encoded shard map: expected 5 or 6 ';'-separated parts starting with '{Tag}', got {parts.Length} starting with '{Clip(parts[0])}'.");
        }

        if (!long.TryParse(parts[1], out long epoch) || epoch < 0)
        {
            throw new FormatException($"Shard map epoch '{Clip(parts[1])}' is not a non-negative integer.");
        }

        if (!int.TryParse(parts[2], out int shardCount) || shardCount is < 1 or > ShardMap.MaxShardCount)
        {
            throw new FormatException($"Shard map shard count '{Clip(parts[2])}' is not between 1 and {ShardMap.MaxShardCount}.");
        }

        string[] members;
        byte[] owners;
        try
        {
            members = [.. parts[3].Split(',').Select(m => Encoding.UTF8.GetString(Convert.FromBase64String(m)))];
            owners = Convert.FromBase64String(parts[4]);
        }
        catch (FormatException e)
        {
            throw new FormatException($"Shard map (epoch {epoch}) has a member or owner table that is not valid base64: {e.Message}", e);
        }

        if (owners.Length != shardCount * sizeof(ushort))
        {
            throw new FormatException(
                $"Shard map (epoch {epoch}) lists {owners.Length / sizeof(ushort)} owners for {shardCount} shards.");
        }

        // Encode writes members sorted, so index i here is member index i in the map; check rather than trust it.
        var sorted = members.Order(StringComparer.Ordinal).ToArray();
        if (!sorted.SequenceEqual(members, StringComparer.Ordinal))
        {
            throw new FormatException($"Shard map (epoch {epoch}) lists its members out of order.");
        }

        var ownerNames = new string[shardCount];
        var ownerIndexes = new int[shardCount];
        for (int shard = 0; shard < shardCount; shard++)
        {
            int index = BinaryPrimitives.ReadUInt16LittleEndian(owners.AsSpan(shard * sizeof(ushort)));
            if (index >= members.Length)
            {
                throw new FormatException(
                    $"Shard map (epoch {epoch}): shard {shard} is owned by member index {index}, but there are {members.Length} members.");
            }

            ownerNames[shard] = members[index];
            ownerIndexes[shard] = index;
        }

        List<ShardSplit>? splits = parts.Length == 6 ? DecodeSplits(parts[5], epoch, members, ownerIndexes) : null;
        try
        {
            return new ShardMap(epoch, members, ownerNames, splits);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Shard map (epoch {epoch}) is invalid: {e.Message}", e);
        }
    }

    // Checks everything the map's constructor would, so that each mistake gets a message naming the pair, and
    // requires ascending shards, so that a map has one encoding.
    private static List<ShardSplit> DecodeSplits(string text, long epoch, string[] members, int[] ownerIndexes)
    {
        if (text.Length == 0)
        {
            throw new FormatException($"Shard map (epoch {epoch}) has an empty split list; a map without splits has 5 parts.");
        }

        var splits = new List<ShardSplit>();
        int previous = -1;
        foreach (string pair in text.Split(','))
        {
            int colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0
                || !int.TryParse(pair.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int shard)
                || !int.TryParse(pair.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int child))
            {
                throw new FormatException(
                    $"Shard map (epoch {epoch}) has a split '{Clip(pair)}' that is not 'shard:memberIndex' in decimal digits.");
            }

            if (shard >= ownerIndexes.Length)
            {
                throw new FormatException(
                    $"Shard map (epoch {epoch}): split shard {shard} is out of range; there are {ownerIndexes.Length} shards.");
            }

            if (child >= members.Length)
            {
                throw new FormatException(
                    $"Shard map (epoch {epoch}): split shard {shard} has child member index {child}, but there are {members.Length} members.");
            }

            if (child == ownerIndexes[shard])
            {
                throw new FormatException(
                    $"Shard map (epoch {epoch}): split shard {shard} has child member index {child}, which is its owner.");
            }

            if (shard == previous)
            {
                throw new FormatException($"Shard map (epoch {epoch}): shard {shard} is split twice.");
            }

            if (shard < previous)
            {
                throw new FormatException(
                    $"Shard map (epoch {epoch}) lists its splits out of order: shard {shard} after shard {previous}.");
            }

            splits.Add(new ShardSplit(shard, members[child]));
            previous = shard;
        }

        return splits;
    }

    private static string Clip(string s) => s.Length <= 32 ? s : s[..32] + "…";
}
