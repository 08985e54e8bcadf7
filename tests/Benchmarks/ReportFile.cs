namespace Orleans.Patterns.Benchmarks;

/// <summary>Where the reports (ring balance, shard movement, loopback round trip) put their figures: the console and a file.</summary>
internal static class ReportFile
{
    /// <summary>Prints <paramref name="table"/> and writes it to <paramref name="output"/>, creating its directory.</summary>
    public static void Write(string output, string table)
    {
        Console.Write(table);
        var directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(output, table);
        Console.WriteLine($"Written to {output}");
    }
}
