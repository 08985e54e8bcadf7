namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Character-level rules of the TSK format, kept apart from the parser's cursor logic.</summary>
internal static class TskScalar
{
    /// <summary>Section and key names: ASCII letters, digits, '_' and '-' (':' and '.' are path separators).</summary>
    public static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';

    public static bool IsBoolean(string token) => token is "true" or "false";

    /// <summary>Integers and decimals with an optional leading '-': <c>2</c>, <c>-1</c>, <c>0.5</c>. No exponents or hex.</summary>
    public static bool IsNumber(string token)
    {
        var i = token.StartsWith('-') ? 1 : 0;
        var integerDigits = CountDigits(token, i);
        if (integerDigits == 0)
        {
            return false;
        }

        i += integerDigits;
        if (i == token.Length)
        {
            return true;
        }

        if (token[i] != '.')
        {
            return false;
        }

        var fractionDigits = CountDigits(token, i + 1);
        return fractionDigits > 0 && i + 1 + fractionDigits == token.Length;
    }

    /// <summary>The character an escape stands for, or <c>null</c> if the escape is not allowed.</summary>
    public static char? Unescape(char c) => c switch
    {
        '"' => '"',
        '\\' => '\\',
        'n' => '\n',
        't' => '\t',
        _ => null,
    };

    private static int CountDigits(string s, int start)
    {
        var i = start;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        return i - start;
    }
}
