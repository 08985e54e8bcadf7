using StackExchange.Redis;

namespace Orleans.Patterns.Silo.Hosting;

/// <summary>
/// Checks Redis before the silo starts. Orleans' Redis membership otherwise retries for a long time and then
/// aborts the process with a generic message; a newcomer deserves "cannot reach Redis at 127.0.0.1:6390"
/// within seconds.
/// </summary>
internal static class RedisPreflight
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Parses and probes the connection string; returns the options Orleans should use.</summary>
    public static async Task<ConfigurationOptions> ConnectOptionsAsync(string connectionString, CancellationToken cancellationToken)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new SiloConfigurationException($"Configuration key 'cluster:redis' ('{connectionString}') is not a Redis connection string: {e.Message}", e);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new SiloConfigurationException($"Configuration key 'cluster:redis' ('{connectionString}') names no Redis endpoint.");
        }

        var endpoints = string.Join(", ", options.EndPoints.Select(EndPointCollection.ToString));
        var probe = options.Clone();
        probe.AbortOnConnectFail = true;
        probe.ConnectRetry = 1;
        probe.ConnectTimeout = (int)ConnectTimeout.TotalMilliseconds;
        probe.SyncTimeout = (int)ConnectTimeout.TotalMilliseconds;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(probe).WaitAsync(ConnectTimeout * 2, cancellationToken);
            await connection.GetDatabase().PingAsync().WaitAsync(ConnectTimeout, cancellationToken);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new DependencyUnreachableException(
                $"Redis clustering: cannot reach Redis at {endpoints} (configuration key 'cluster:redis'): {Reason(e)}", e);
        }

        // Once running, a Redis blip must not kill the silo: let the client reconnect in the background.
        options.AbortOnConnectFail = false;
        return options;
    }

    /// <summary>
    /// Why the probe failed, without StackExchange.Redis' advice to set abortConnect=false: that advice is for
    /// applications that may start before Redis, and a silo is not one (it would start half-configured).
    /// </summary>
    private static string Reason(Exception e)
    {
        var innermost = e;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        var kind = e is RedisConnectionException connection ? connection.FailureType.ToString() : e.GetType().Name;
        return innermost == e ? kind : $"{kind} ({FirstLine(innermost.Message)})";
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}

/// <summary>A service the silo depends on cannot be reached; the message names it and its endpoint.</summary>
public sealed class DependencyUnreachableException(string message, Exception? inner = null) : Exception(message, inner);
