using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Orleans.Patterns.Storage;

/// <summary>
/// Maps (state name, grain id) to a file path: <c>root/{state}/{bucket}/{grain}.state</c>.
/// </summary>
/// <remarks>
/// The two-hex-digit bucket keeps directories small when there are many grains (256 buckets).
/// The names are escaped rather than hashed so an operator can find a grain's file by eye.
/// </remarks>
internal static class GrainStateFileNames
{
    public const string Extension = ".state";
    public const string TempExtension = ".tmp";

    // Leaves room for the temp suffix (".{guid:N}.tmp", 37 chars) within the common 255-byte limit.
    private const int MaxEncodedLength = 150;
    private const int KeptPrefixLength = 100;

    public static string GetFilePath(string rootDirectory, string stateName, GrainId grainId)
    {
        var id = grainId.ToString();
        var idBytes = Encoding.UTF8.GetBytes(id);

        // XxHash32 is specified, so the bucket of a grain never changes between processes or versions.
        var bucket = (XxHash32.HashToUInt32(idBytes) & 0xFF).ToString("x2", CultureInfo.InvariantCulture);
        return Path.Combine(rootDirectory, Encode(stateName), bucket, Encode(id) + Extension);
    }

    /// <summary>
    /// Escapes a name so that it is one safe path segment on every common file system.
    /// </summary>
    /// <remarks>
    /// Kept: <c>a-z 0-9 - _</c>. Upper-case letters become <c>^</c> + lower case, so names that differ
    /// only by case stay distinct on case-insensitive file systems. Every other UTF-8 byte becomes
    /// <c>%XX</c> ('.' included, so "." and ".." can never be produced). Over-long results keep a
    /// prefix and append a 128-bit hash of the full name after <c>~</c>, which escaping never emits.
    /// </remarks>
    public static string Encode(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var builder = new StringBuilder(bytes.Length + 8);
        foreach (var b in bytes)
        {
            var c = (char)b;
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_')
            {
                builder.Append(c);
            }
            else if (c is >= 'A' and <= 'Z')
            {
                builder.Append('^').Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        if (builder.Length <= MaxEncodedLength)
        {
            return builder.ToString();
        }

        var hash = Convert.ToHexStringLower(XxHash128.Hash(bytes));
        return string.Concat(builder.ToString(0, KeptPrefixLength), "~", hash);
    }
}
