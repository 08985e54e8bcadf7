using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>
/// Free loopback TCP ports for silos started as separate processes, so several clusters (and CI) never collide on
/// fixed ports. A port is chosen here and bound later by another process; in between, nothing else may take it. So the
/// ports come from just below the OS's ephemeral range: the kernel hands ephemeral ports to every bind of port 0 and
/// every outgoing connection (a silo's own listeners on port 0, the connections of silos already started), and a port
/// chosen from inside that range was seen taken that way before its silo bound it. Below it only an explicit bind can
/// take a port, and this process never hands the same port out twice within <see cref="Reuse"/>. Where the range
/// cannot be read, or leaves no room below it, ports come from the OS (port 0) as before.
/// </summary>
internal static class FreePorts
{
    /// <summary>How many ports below the ephemeral range are candidates.</summary>
    internal const int Span = 2700;

    /// <summary>How long a port handed out is not handed out again by this process.</summary>
    internal static readonly TimeSpan Reuse = TimeSpan.FromMinutes(10);

    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, long> HandedOut = [];

    /// <summary>
    /// Takes <paramref name="count"/> distinct ports, binding each and keeping every listener open until all are chosen
    /// (so neither the OS nor this method can hand the same port out twice), then releases them for the silos to bind.
    /// </summary>
    public static int[] Take(int count)
    {
        var (low, high) = Candidates(EphemeralStart());
        var listeners = new List<TcpListener>(count);
        try
        {
            lock (Gate)
            {
                var now = Environment.TickCount64;
                var next = low + Random.Shared.Next(high - low);
                for (var tried = 0; listeners.Count < count && tried < high - low; tried++, next = next + 1 < high ? next + 1 : low)
                {
                    if (HandedOut.TryGetValue(next, out var at) && now - at < Reuse.TotalMilliseconds)
                    {
                        continue;
                    }

                    if (TryListen(next) is { } listener)
                    {
                        listeners.Add(listener);
                        HandedOut[next] = now;
                    }
                }
            }

            while (listeners.Count < count)
            {
                listeners.Add(TryListen(0) ?? throw new InvalidOperationException("No free loopback TCP port could be bound."));
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    /// <summary>
    /// The candidate ports [low, high) below an ephemeral range that starts at <paramref name="ephemeralStart"/>, above
    /// the well-known and the test host's own ranges; empty (low = high) when there is no room.
    /// </summary>
    internal static (int Low, int High) Candidates(int? ephemeralStart)
    {
        const int Floor = 30000; // Orleans' test host allocates its silos' ports up to here
        if (ephemeralStart is not { } start || start - Span < Floor)
        {
            return (0, 0);
        }

        return (start - Span, start);
    }

    /// <summary>The first port of the OS's ephemeral range: Linux's <c>ip_local_port_range</c>, else IANA's 49152.</summary>
    internal static int? EphemeralStart()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 49152;
        }

        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return range.Length >= 1 && int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static TcpListener? TryListen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return listener;
        }
        catch (SocketException)
        {
            listener.Stop();
            return null;
        }
    }
}
