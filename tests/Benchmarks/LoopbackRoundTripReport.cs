using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// The floor under any message between two silos on one machine: a round trip of a small frame between two .NET
/// processes over one loopback TCP connection (Nagle off, async sockets on the thread pool, one frame in flight).
/// Measured back to back and paced (1 ms idle between round trips, as one client's writes arrive, so that threads
/// sleep and must be woken). Compare it with what a replica times for an Orleans call between silos and its answer
/// (`raft latency`: replication less append) to bound what a transport of the replicas' own could save.
/// </summary>
internal static class LoopbackRoundTripReport
{
    public const string Command = "loopback-round-trip";
    private const string ServerCommand = "loopback-round-trip-server";
    private const string DefaultOutput = "BenchmarkDotNet.Artifacts/loopback-round-trip.md";
    private const int FrameBytes = 64;
    private const int Warmup = 2_000;
    private const int DefaultRoundTrips = 18_000;

    public static bool Handles(string command) => command is Command or ServerCommand;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args[0] == ServerCommand)
        {
            await ServeAsync();
            return 0;
        }

        var output = DefaultOutput;
        var roundTrips = DefaultRoundTrips;
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
            }
            else if (args[i] == "--round-trips" && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out roundTrips) && roundTrips > 0)
            {
                i++;
            }
            else
            {
                Console.Error.WriteLine($"usage: {Command} [--out FILE] [--round-trips N]");
                return 2;
            }
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        report.AppendLine(CultureInfo.InvariantCulture, $"{FrameBytes}-byte frames between two processes on loopback TCP, {roundTrips:N0} round trips after {Warmup:N0} unmeasured, microseconds:");
        report.AppendLine();
        report.AppendLine("| mode | p50 | p90 | p99 | max |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var paced in new[] { false, true })
        {
            var micros = await MeasureAsync(roundTrips, paced);
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {(paced ? "paced, 1 ms idle between" : "back to back")} | {At(micros, 0.50):F0} | {At(micros, 0.90):F0} | {At(micros, 0.99):F0} | {micros[^1]:F0} |");
        }

        ReportFile.Write(output, report.ToString());
        return 0;
    }

    /// <summary>Starts a server process (this program again), times <paramref name="roundTrips"/> round trips with it, and stops it.</summary>
    private static async Task<double[]> MeasureAsync(int roundTrips, bool paced)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark's own process path is unknown.");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(LoopbackRoundTripReport).Assembly.Location);
        }

        start.ArgumentList.Add(ServerCommand);
        using var server = Process.Start(start) ?? throw new InvalidOperationException("Could not start the server process.");
        try
        {
            var portLine = await server.StandardOutput.ReadLineAsync()
                           ?? throw new InvalidOperationException("The server process ended before naming its port.");
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, int.Parse(portLine, CultureInfo.InvariantCulture));
            var stream = client.GetStream();
            var frame = new byte[FrameBytes];
            var micros = new double[roundTrips];
            for (var i = -Warmup; i < roundTrips; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await stream.WriteAsync(frame);
                await stream.ReadExactlyAsync(frame);
                if (i >= 0)
                {
                    micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                }

                if (paced)
                {
                    await Task.Delay(1);
                }
            }

            Array.Sort(micros);
            return micros;
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    /// <summary>Accepts one connection and echoes every frame until the client goes; prints its port first.</summary>
    private static async Task ServeAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Console.WriteLine(((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture));
        using var connection = await listener.AcceptTcpClientAsync();
        connection.NoDelay = true;
        var stream = connection.GetStream();
        var frame = new byte[FrameBytes];
        try
        {
            while (true)
            {
                await stream.ReadExactlyAsync(frame);
                await stream.WriteAsync(frame);
            }
        }
        catch (EndOfStreamException)
        {
            // The client is done.
        }
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double At(double[] sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
