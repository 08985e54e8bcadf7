using System.Net;
using System.Net.Sockets;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>Free loopback TCP ports, so several clusters (and CI) never collide on fixed ports.</summary>
internal static class FreePorts
{
    /// <summary>
    /// Takes <paramref name="count"/> distinct ports by binding port 0 and keeping every listener open until all
    /// are chosen (so the OS cannot hand the same port out twice), then releases them for the silos to bind.
    /// </summary>
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
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
}
