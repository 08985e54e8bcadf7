using Spectre.Console;

namespace Orleans.Patterns.Tests.Client;

/// <summary>A plain-text, non-interactive Spectre console over a string, as the client sees a redirected terminal.</summary>
internal sealed class TestConsole
{
    private readonly StringWriter _out = new();

    public TestConsole()
    {
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(_out),
            Interactive = InteractionSupport.No,
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        // Wide enough that no line the tests look for is wrapped.
        Console.Profile.Width = 400;
    }

    public IAnsiConsole Console { get; }

    public StringWriter Error { get; } = new();

    public string Output => _out.ToString();

    /// <summary>The error writer's non-empty lines.</summary>
    public string[] ErrorLines => Error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
