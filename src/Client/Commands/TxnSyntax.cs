using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// The small language of <c>kv txn</c>. A compare is <c>target(key) op operand</c>: target <c>value</c> (operand a
/// string), <c>version</c>, <c>create</c> or <c>mod</c> (a revision or count, ≥ 0) or <c>lease</c> (a lease id in hex,
/// 0 for none); op <c>=</c>, <c>!=</c>, <c>&lt;</c> or <c>&gt;</c>. An operation is <c>put key value</c>,
/// <c>get key [--prefix]</c> or <c>del key [--prefix]</c>. Keys and values with spaces go in double quotes
/// (<c>\"</c> and <c>\\</c> escape inside them); <c>""</c> is the empty value.
/// </summary>
internal static partial class TxnSyntax
{
    public const string Help =
        "compare: value(KEY) = VALUE | version|create|mod(KEY) = N | lease(KEY) = ID, with =, !=, <, >; " +
        "op: put KEY VALUE | get KEY [--prefix] | del KEY [--prefix]; quote text with spaces in \"...\"";

    public static Compare ParseCompare(string option, string text)
    {
        var match = CompareForm().Match(text);
        if (!match.Success)
        {
            throw Bad(option, text, "expected TARGET(KEY) OP OPERAND, e.g. value(k) = v or mod(k) > 5");
        }

        var key = Key(option, text, Unquote(option, text, match.Groups["key"].Value.Trim()));
        var result = match.Groups["op"].Value switch
        {
            "=" => CompareResult.Equal,
            "!=" => CompareResult.NotEqual,
            "<" => CompareResult.Less,
            _ => CompareResult.Greater,
        };
        var operands = Tokenize(option, text, match.Groups["operand"].Value);
        if (operands.Count != 1)
        {
            throw Bad(option, text, operands.Count == 0 ? "the operand is missing (\"\" is the empty value)" : "expected one operand; quote values with spaces");
        }

        var operand = operands[0];
        var target = match.Groups["target"].Value.ToLowerInvariant();
        return target switch
        {
            "value" => new Compare(key, CompareTarget.Value, result) { Value = Encoding.UTF8.GetBytes(operand) },
            "version" => new Compare(key, CompareTarget.Version, result) { Version = Number(option, text, operand) },
            "create" => new Compare(key, CompareTarget.Create, result) { CreateRevision = Number(option, text, operand) },
            "mod" => new Compare(key, CompareTarget.Mod, result) { ModRevision = Number(option, text, operand) },
            "lease" => new Compare(key, CompareTarget.Lease, result) { Lease = operand == "0" ? 0 : LeaseIds.Parse($"{option} '{text}': lease", operand) },
            _ => throw Bad(option, text, $"unknown target '{target}'; use value, version, create, mod or lease"),
        };
    }

    public static RequestOp ParseOp(string option, string text)
    {
        var tokens = Tokenize(option, text, text);
        if (tokens.Count == 0)
        {
            throw Bad(option, text, "empty operation; use put KEY VALUE, get KEY or del KEY");
        }

        var verb = tokens[0].ToLowerInvariant();
        var prefix = tokens.Count == 3 && tokens[2] == "--prefix";
        switch (verb)
        {
            case "put" when tokens.Count == 3:
                return new PutRequest(Key(option, text, tokens[1]), Encoding.UTF8.GetBytes(tokens[2]));
            case "put":
                throw Bad(option, text, "put takes a key and a value: put KEY VALUE");
            case "get" when tokens.Count == 2 || prefix:
                var key = Key(option, text, tokens[1]);
                return new RangeRequest(key) { RangeEnd = prefix ? ByteKeys.PrefixEnd(key) : [] };
            case "del" when tokens.Count == 2 || prefix:
                var delKey = Key(option, text, tokens[1]);
                return new DeleteRangeRequest(delKey) { RangeEnd = prefix ? ByteKeys.PrefixEnd(delKey) : [] };
            case "get" or "del":
                throw Bad(option, text, $"{verb} takes a key and optionally --prefix: {verb} KEY [--prefix]");
            default:
                throw Bad(option, text, $"unknown operation '{tokens[0]}'; use put, get or del");
        }
    }

    /// <summary>Splits on whitespace; a double-quoted run is one token (possibly empty) with \" and \\ escapes.</summary>
    public static List<string> Tokenize(string option, string text, string part)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < part.Length)
        {
            if (char.IsWhiteSpace(part[i]))
            {
                i++;
                continue;
            }

            var token = new StringBuilder();
            if (part[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= part.Length)
                    {
                        throw Bad(option, text, "a quoted string is not closed");
                    }

                    if (part[i] == '"')
                    {
                        i++;
                        break;
                    }

                    if (part[i] == '\\' && i + 1 < part.Length && part[i + 1] is '"' or '\\')
                    {
                        i++;
                    }

                    token.Append(part[i++]);
                }

                if (i < part.Length && !char.IsWhiteSpace(part[i]))
                {
                    throw Bad(option, text, "a quoted string must be followed by a space");
                }
            }
            else
            {
                while (i < part.Length && !char.IsWhiteSpace(part[i]))
                {
                    token.Append(part[i++]);
                }
            }

            tokens.Add(token.ToString());
        }

        return tokens;
    }

    private static string Unquote(string option, string text, string key)
    {
        if (!key.StartsWith('"'))
        {
            return key;
        }

        var tokens = Tokenize(option, text, key);
        return tokens.Count == 1 ? tokens[0] : throw Bad(option, text, "the key must be one word or one quoted string");
    }

    private static byte[] Key(string option, string text, string key) =>
        key.Length == 0 ? throw Bad(option, text, "the key must not be empty") : Encoding.UTF8.GetBytes(key);

    private static long Number(string option, string text, string operand) =>
        long.TryParse(operand, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw Bad(option, text, $"'{operand}' is not a whole number >= 0");

    private static UsageException Bad(string option, string text, string why) => new($"{option} '{text}': {why}.");

    [GeneratedRegex("""^\s*(?<target>[A-Za-z]+)\s*\(\s*(?<key>"(?:[^"\\]|\\.)*"|[^)]*)\)\s*(?<op>!=|=|<|>)(?<operand>.*)$""")]
    private static partial Regex CompareForm();
}

/// <summary>Lease ids on the command line: lower-case hex as the commands print them (etcdctl's convention), 0x optional.</summary>
internal static class LeaseIds
{
    public static string Format(long id) => id.ToString("x", CultureInfo.InvariantCulture);

    public static long Parse(string what, string? text)
    {
        var digits = text?.Trim() ?? "";
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[2..];
        }

        return long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw new UsageException($"{what} '{text}' is not a lease id (hex, as `lease grant` prints it).");
    }
}
