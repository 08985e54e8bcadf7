using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Orleans.Patterns.Client.Workload;

/// <summary>What every results file starts with: the command that reproduces it, then when and on what it ran.</summary>
internal static class BenchMarkdown
{
    public static StringBuilder Start(string commandLine)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"`{commandLine}`");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        text.AppendLine();
        return text;
    }
}
