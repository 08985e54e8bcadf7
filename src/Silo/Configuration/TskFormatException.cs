namespace Orleans.Patterns.Silo.Configuration;

/// <summary>
/// Thrown when a TSK configuration file is malformed. The message starts with
/// <c>file:line:column:</c> so editors and terminals can jump straight to the problem.
/// </summary>
public sealed class TskFormatException : FormatException
{
    /// <summary>Creates an exception for a problem at a 1-based line and column of <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The file name as the user gave it; used as the message prefix.</param>
    /// <param name="line">1-based line of the problem.</param>
    /// <param name="column">1-based column of the problem (a tab counts as one column).</param>
    /// <param name="reason">What was wrong, without the position prefix.</param>
    public TskFormatException(string filePath, int line, int column, string reason)
        : base($"{filePath}:{line}:{column}: {reason}")
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>The file name as given to the parser (not necessarily a full path).</summary>
    public string FilePath { get; }

    /// <summary>1-based line number of the problem.</summary>
    public int Line { get; }

    /// <summary>1-based column of the problem.</summary>
    public int Column { get; }

    /// <summary>The message without the <c>file:line:column:</c> prefix.</summary>
    public string Reason { get; }
}
