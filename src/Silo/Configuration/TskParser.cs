using System.Text;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>
/// Parses TSK text into flattened configuration keys (<c>section:sub:key</c>, lists as <c>key:0</c>, <c>key:1</c>).
/// One line is one statement, so the parser works line by line with a cursor; every error carries the
/// 1-based line and column of the offending character.
/// </summary>
internal sealed class TskParser
{
    private readonly string _filePath;
    private readonly Dictionary<string, string?> _data = new(StringComparer.OrdinalIgnoreCase);

    // Every section and key path seen so far and where, so a second definition can name both lines.
    // Case-insensitive because configuration keys are: 'Node_Id' and 'node_id' would silently overwrite each other.
    private readonly Dictionary<string, Definition> _definitions = new(StringComparer.OrdinalIgnoreCase);

    private string _sectionPath = string.Empty;
    private string _line = string.Empty;
    private int _lineNumber;
    private int _pos;

    private TskParser(string filePath) => _filePath = filePath;

    /// <summary>Parses <paramref name="text"/>; <paramref name="filePath"/> is only used in error messages.</summary>
    public static Dictionary<string, string?> Parse(string text, string filePath)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(filePath);

        var parser = new TskParser(filePath);
        var lines = text.TrimStart('\uFEFF').Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            parser._line = lines[i].TrimEnd('\r');
            parser._lineNumber = i + 1;
            parser._pos = 0;
            parser.ParseLine();
        }

        return parser._data;
    }

    private bool AtEnd => _pos >= _line.Length;

    private char Current => _line[_pos];

    private bool AtEndOrComment => AtEnd || Current == '#';

    private void ParseLine()
    {
        SkipWhitespace();
        if (AtEndOrComment)
        {
            return;
        }

        if (Current == '[')
        {
            ParseSectionHeader();
        }
        else
        {
            ParseKeyValue();
        }
    }

    private void ParseSectionHeader()
    {
        var open = _pos;
        _pos++; // '['
        var parts = new List<string>();
        var separator = '[';
        while (true)
        {
            SkipWhitespace();
            var name = ReadName();
            if (name.Length == 0)
            {
                throw AtEnd || Current is ']' or '.'
                    ? Fail(_pos, $"expected a section name after '{separator}', found {Describe(_pos)}")
                    : InvalidNameCharacter("section name");
            }

            if (!AtEnd && !char.IsWhiteSpace(Current) && Current is not ('.' or ']'))
            {
                throw InvalidNameCharacter("section name");
            }

            parts.Add(name);
            SkipWhitespace();
            if (!AtEnd && Current == '.')
            {
                separator = '.';
                _pos++;
                continue;
            }

            if (AtEnd || Current != ']')
            {
                throw Fail(_pos, $"expected ']' to close section header, found {Describe(_pos)}");
            }

            _pos++;
            break;
        }

        var label = $"[{string.Join('.', parts)}]";
        ExpectEndOfLine($"after section header {label}");
        _sectionPath = string.Join(':', parts);
        Define(_sectionPath, isSection: true, open, label);
    }

    private void ParseKeyValue()
    {
        var keyStart = _pos;
        var key = ReadName();
        if (key.Length == 0)
        {
            throw Fail(_pos, $"expected a key name or '[', found {Describe(_pos)}");
        }

        // '=' right after a key is the INI/TOML habit; report it as a missing colon rather than a bad name.
        if (!AtEnd && !char.IsWhiteSpace(Current) && Current is not (':' or '='))
        {
            throw InvalidNameCharacter("key name");
        }

        SkipWhitespace();
        if (AtEnd || Current != ':')
        {
            throw Fail(_pos, $"expected ':' after key '{key}', found {Describe(_pos)}");
        }

        _pos++;
        var path = _sectionPath.Length == 0 ? key : $"{_sectionPath}:{key}";
        Define(path, isSection: false, keyStart, key);

        SkipWhitespace();
        if (AtEndOrComment)
        {
            throw Fail(_pos, $"expected a value for key '{key}', found {Describe(_pos)}");
        }

        if (Current == '[')
        {
            var items = ParseList();
            if (items.Count == 0)
            {
                // Same as the JSON provider for "[]": the key exists (the section is present) but has no children.
                _data[path] = null;
            }

            for (var i = 0; i < items.Count; i++)
            {
                _data[$"{path}:{i}"] = items[i];
            }
        }
        else
        {
            _data[path] = ParseScalar();
        }

        ExpectEndOfLine($"after the value of key '{key}'");
    }

    private List<string> ParseList()
    {
        var open = _pos;
        _pos++; // '['
        var items = new List<string>();
        SkipWhitespace();
        if (!AtEnd && Current == ']')
        {
            _pos++;
            return items;
        }

        while (true)
        {
            if (AtEndOrComment)
            {
                throw Fail(open, "unterminated list, expected ']' before end of line (lists must be on one line)");
            }

            if (Current == '[')
            {
                throw Fail(_pos, "nested lists are not supported");
            }

            if (Current == ',')
            {
                throw Fail(_pos, "expected a value in list, found ','");
            }

            items.Add(ParseScalar());
            SkipWhitespace();
            if (AtEndOrComment)
            {
                throw Fail(open, "unterminated list, expected ']' before end of line (lists must be on one line)");
            }

            if (Current == ']')
            {
                _pos++;
                return items;
            }

            if (Current != ',')
            {
                throw Fail(_pos, $"expected ',' or ']' in list, found {Describe(_pos)}");
            }

            var comma = _pos;
            _pos++;
            SkipWhitespace();
            if (!AtEnd && Current == ']')
            {
                throw Fail(comma, "trailing comma in list, expected a value after ','");
            }
        }
    }

    private string ParseScalar()
    {
        if (Current == '"')
        {
            return ParseString();
        }

        var start = _pos;
        while (!AtEnd && !char.IsWhiteSpace(Current) && Current is not (',' or ']' or '#'))
        {
            _pos++;
        }

        var token = _line[start.._pos];
        if (token.Length == 0)
        {
            throw Fail(start, $"expected a value, found {Describe(start)}");
        }

        return TskScalar.IsBoolean(token) || TskScalar.IsNumber(token)
            ? token
            : throw Fail(start, $"unquoted value '{token}': strings must be quoted, e.g. \"{token}\"");
    }

    private string ParseString()
    {
        var open = _pos;
        _pos++; // opening quote
        var value = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw Fail(open, "unterminated string, expected a closing '\"' before end of line");
            }

            var c = Current;
            _pos++;
            if (c == '"')
            {
                return value.ToString();
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (AtEnd)
            {
                throw Fail(open, "unterminated string, expected a closing '\"' before end of line");
            }

            var escaped = TskScalar.Unescape(Current)
                ?? throw Fail(_pos - 1, $"invalid escape sequence '\\{Current}' in string; allowed are \\\" \\\\ \\n \\t");
            value.Append(escaped);
            _pos++;
        }
    }

    private void Define(string path, bool isSection, int column, string displayName)
    {
        if (_definitions.TryGetValue(path, out var first))
        {
            var where = isSection ? displayName : $"key '{displayName}' {SectionDescription()}";
            var reason = (first.IsSection, isSection) switch
            {
                (true, true) => $"duplicate section {displayName} (first declared on line {first.Line}, again on line {_lineNumber})",
                (false, false) => $"duplicate {where} (first defined on line {first.Line}, again on line {_lineNumber})",
                (true, false) => $"{where} conflicts with section [{path.Replace(':', '.')}] declared on line {first.Line}",
                (false, true) => $"section {displayName} conflicts with a key of the same path defined on line {first.Line}",
            };
            throw Fail(column, reason);
        }

        _definitions[path] = new Definition(_lineNumber, isSection);
    }

    private string SectionDescription() =>
        _sectionPath.Length == 0 ? "at root level" : $"in section [{_sectionPath.Replace(':', '.')}]";

    private void ExpectEndOfLine(string context)
    {
        SkipWhitespace();
        if (!AtEndOrComment)
        {
            throw Fail(_pos, $"unexpected {Describe(_pos)} {context}, expected end of line or a '#' comment");
        }
    }

    private string ReadName()
    {
        var start = _pos;
        while (!AtEnd && TskScalar.IsNameCharacter(Current))
        {
            _pos++;
        }

        return _line[start.._pos];
    }

    private void SkipWhitespace()
    {
        while (!AtEnd && char.IsWhiteSpace(Current))
        {
            _pos++;
        }
    }

    private TskFormatException InvalidNameCharacter(string what) =>
        Fail(_pos, $"invalid character {Describe(_pos)} in {what}; names use letters, digits, '_' and '-'");

    private string Describe(int pos) => pos >= _line.Length ? "end of line" : $"'{_line[pos]}'";

    private TskFormatException Fail(int pos, string reason) => new(_filePath, _lineNumber, pos + 1, reason);

    private readonly record struct Definition(int Line, bool IsSection);
}
