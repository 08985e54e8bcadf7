using System.Text;

namespace Orleans.Patterns.Placement;

/// <summary>Grain keys as placement directors read them.</summary>
internal static class PlacementKeys
{
    /// <summary>Keys up to this many characters decode on the stack; user ids are far shorter.</summary>
    public const int StackLimit = 256;

    /// <summary>The grain key as the characters of its string form, without allocating for keys up to <see cref="StackLimit"/>.</summary>
    public static ReadOnlySpan<char> Decode(IdSpan key, Span<char> buffer)
    {
        var bytes = key.AsSpan();
        return Encoding.UTF8.GetMaxCharCount(bytes.Length) <= buffer.Length
            ? buffer[..Encoding.UTF8.GetChars(bytes, buffer)]
            : Encoding.UTF8.GetString(bytes);
    }
}
