using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Orleans.Patterns.History;

/// <summary>
/// Reads and writes histories as JSON lines, exactly as docs/ARCHITECTURE.md ("Operation histories") shows them.
/// </summary>
/// <remarks>
/// Field order is fixed (client, op, key, expected, value, ops, call_ns, return_ns, ok, output) so a line written
/// from a parsed line is byte-for-byte the original. Nulls are exact: <c>return_ns</c> and <c>ok</c> are always
/// written (null when unknown); a successful get always has <c>output</c> (null = absent key); a successful cas has a
/// boolean <c>output</c> when known; operations that did not succeed have no output at all. The reader rejects lines
/// that break these rules rather than guessing, since a checker fed a misread history gives a wrong verdict.
/// </remarks>
public static class HistoryJson
{
    // Histories are files, not HTML: keep values such as "a+b" or "é" readable instead of \u-escaped.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The operation as one JSON line, without the line break.</summary>
    public static string FormatLine(HistoryOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("client", operation.Client);
            json.WriteString("op", OpName(operation.Op));
            bool succeeded = operation.Ok == true;
            if (operation.Op == HistoryOpKind.Txn)
            {
                json.WriteStartArray("ops");
                foreach (HistoryTxnOp sub in operation.Ops ?? [])
                {
                    json.WriteStartObject();
                    json.WriteString("op", OpName(sub.Op));
                    json.WriteString("key", sub.Key);
                    WriteArguments(json, sub.Op, sub.Value, sub.Expected);
                    if (succeeded)
                    {
                        WriteOutput(json, sub.Op, sub.Output, sub.Swapped);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }
            else
            {
                json.WriteString("key", operation.Key);
                WriteArguments(json, operation.Op, operation.Value, operation.Expected);
            }

            json.WriteNumber("call_ns", operation.CallNs);
            if (operation.ReturnNs is { } returned)
            {
                json.WriteNumber("return_ns", returned);
            }
            else
            {
                json.WriteNull("return_ns");
            }

            if (operation.Ok is { } ok)
            {
                json.WriteBoolean("ok", ok);
            }
            else
            {
                json.WriteNull("ok");
            }

            if (succeeded && operation.Op != HistoryOpKind.Txn)
            {
                WriteOutput(json, operation.Op, operation.Output, operation.Swapped);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses one JSON line; throws <see cref="FormatException"/> when it does not follow the format.</summary>
    public static HistoryOperation ParseLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        try
        {
            using var document = JsonDocument.Parse(line);
            return Parse(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Not a JSON object: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // JsonElement throws this for a value of the wrong JSON type.
            throw new FormatException($"A field has the wrong type: {e.Message}", e);
        }
    }

    /// <summary>Writes one line per operation, in the order given (invocation order).</summary>
    public static void Write(TextWriter writer, IEnumerable<HistoryOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(operations);
        foreach (HistoryOperation operation in operations)
        {
            writer.Write(FormatLine(operation));
            writer.Write('\n');
        }
    }

    /// <summary>Reads a history, skipping blank lines; errors name the line number.</summary>
    public static IEnumerable<HistoryOperation> Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            HistoryOperation operation;
            try
            {
                operation = ParseLine(line);
            }
            catch (FormatException e)
            {
                throw new FormatException($"History line {number}: {e.Message}", e);
            }

            yield return operation;
        }
    }

    public static IReadOnlyList<HistoryOperation> ReadFile(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return [.. Read(reader)];
    }

    public static void WriteFile(string path, IEnumerable<HistoryOperation> operations)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        Write(writer, operations);
    }

    private static void WriteArguments(Utf8JsonWriter json, HistoryOpKind op, string? value, string? expected)
    {
        if (op == HistoryOpKind.Cas)
        {
            // Always written: null is meaningful (create-if-absent), so it cannot be left out.
            json.WriteString("expected", expected);
        }

        if (op is HistoryOpKind.Put or HistoryOpKind.Cas)
        {
            json.WriteString("value", value);
        }
    }

    private static void WriteOutput(Utf8JsonWriter json, HistoryOpKind op, string? output, bool? swapped)
    {
        if (op == HistoryOpKind.Get)
        {
            json.WriteString("output", output);
        }
        else if (op == HistoryOpKind.Cas && swapped is { } value)
        {
            json.WriteBoolean("output", value);
        }
    }

    private static HistoryOperation Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("Not a JSON object.");
        }

        HistoryOpKind op = ParseOp(Required(root, "op").GetString());
        long? returnNs = NullableLong(Required(root, "return_ns"));
        bool? ok = NullableBool(Required(root, "ok"));
        if ((ok is null) != (returnNs is null))
        {
            throw new FormatException("\"return_ns\" is null exactly when \"ok\" is null (unknown outcome).");
        }

        bool succeeded = ok == true;
        var operation = new HistoryOperation
        {
            Client = Required(root, "client").GetInt32(),
            Op = op,
            CallNs = Required(root, "call_ns").GetInt64(),
            ReturnNs = returnNs,
            Ok = ok,
        };

        if (op == HistoryOpKind.Txn)
        {
            if (root.TryGetProperty("key", out _) || root.TryGetProperty("output", out _))
            {
                throw new FormatException("A txn has no top-level \"key\" or \"output\"; they belong to its \"ops\".");
            }

            JsonElement ops = Required(root, "ops");
            if (ops.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("\"ops\" must be an array.");
            }

            var subs = new List<HistoryTxnOp>();
            foreach (JsonElement element in ops.EnumerateArray())
            {
                HistoryOpKind subOp = ParseOp(Required(element, "op").GetString());
                if (subOp == HistoryOpKind.Txn)
                {
                    throw new FormatException("A txn cannot nest a txn.");
                }

                (string? value, string? expected) = Arguments(element, subOp);
                (string? output, bool? swapped) = Outputs(element, subOp, succeeded);
                subs.Add(new HistoryTxnOp
                {
                    Op = subOp,
                    Key = Required(element, "key").GetString() ?? throw new FormatException("\"key\" cannot be null."),
                    Value = value,
                    Expected = expected,
                    Output = output,
                    Swapped = swapped,
                });
            }

            return operation with { Ops = subs };
        }

        (string? v, string? e) = Arguments(root, op);
        (string? o, bool? s) = Outputs(root, op, succeeded);
        return operation with
        {
            Key = Required(root, "key").GetString() ?? throw new FormatException("\"key\" cannot be null."),
            Value = v,
            Expected = e,
            Output = o,
            Swapped = s,
        };
    }

    private static (string? Value, string? Expected) Arguments(JsonElement element, HistoryOpKind op)
    {
        string? value = null;
        string? expected = null;
        if (op is HistoryOpKind.Put or HistoryOpKind.Cas)
        {
            value = Required(element, "value").GetString() ?? throw new FormatException("\"value\" cannot be null.");
        }

        if (op == HistoryOpKind.Cas)
        {
            expected = Required(element, "expected").GetString();
        }

        return (value, expected);
    }

    private static (string? Output, bool? Swapped) Outputs(JsonElement element, HistoryOpKind op, bool succeeded)
    {
        bool present = element.TryGetProperty("output", out JsonElement output);
        if (!succeeded || op is HistoryOpKind.Put or HistoryOpKind.Delete)
        {
            return present
                ? throw new FormatException($"\"output\" is only for a successful get or cas, not a {OpName(op)} with ok {(succeeded ? "true" : "not true")}.")
                : (null, null);
        }

        if (op == HistoryOpKind.Get)
        {
            // A successful read must say what it saw; "absent key" is an explicit null, never a missing field.
            return present
                ? (output.GetString(), null)
                : throw new FormatException("A successful get needs \"output\" (null for an absent key).");
        }

        return present ? (null, output.GetBoolean()) : (null, null);
    }

    private static JsonElement Required(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value)
            ? value
            : throw new FormatException($"Missing \"{name}\".");

    private static long? NullableLong(JsonElement element) =>
        element.ValueKind == JsonValueKind.Null ? null : element.GetInt64();

    private static bool? NullableBool(JsonElement element) =>
        element.ValueKind == JsonValueKind.Null ? null : element.GetBoolean();

    private static string OpName(HistoryOpKind op) => op switch
    {
        HistoryOpKind.Put => "put",
        HistoryOpKind.Get => "get",
        HistoryOpKind.Delete => "delete",
        HistoryOpKind.Cas => "cas",
        HistoryOpKind.Txn => "txn",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown operation."),
    };

    private static HistoryOpKind ParseOp(string? name) => name switch
    {
        "put" => HistoryOpKind.Put,
        "get" => HistoryOpKind.Get,
        "delete" => HistoryOpKind.Delete,
        "cas" => HistoryOpKind.Cas,
        "txn" => HistoryOpKind.Txn,
        _ => throw new FormatException($"Unknown \"op\": {name ?? "null"}."),
    };
}
