using System.Diagnostics;
using System.Text;
using Orleans.Patterns.Client.Cluster;
using StackExchange.Redis;

namespace Orleans.Patterns.Tests.Infrastructure;

/// <summary>
/// A throw-away <c>redis-server</c> on a free loopback port, without persistence, for tests of Redis clustering.
/// A missing <c>redis-server</c> is a failure, not a skip: a skipped Redis test would hide that the suite
/// never exercised Redis clustering at all.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);

    private readonly StringBuilder _output = new();
    private Process? _process;

    public int Port { get; private set; }

    /// <summary>The StackExchange.Redis connection string of this server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        var executable = FindOnPath("redis-server")
            ?? throw new InvalidOperationException(
                "redis-server is not on PATH; the Redis tests need a real server. Install it with: sudo apt-get install -y redis-server");

        Port = FreePorts.Take(1)[0];
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await WaitForPingAsync();
    }

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    /// <summary>Opens a client connection to this server (the caller disposes it).</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(ConnectionString);

    private async Task WaitForPingAsync()
    {
        var clock = Stopwatch.StartNew();
        Exception? lastError = null;
        while (clock.Elapsed < StartDeadline)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode} while starting on port {Port}:\n{Output()}");
            }

            try
            {
                var options = ConfigurationOptions.Parse(ConnectionString);
                options.ConnectTimeout = 1000;
                options.AbortOnConnectFail = true;
                await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                await connection.GetDatabase().PingAsync();
                return;
            }
            catch (RedisException e)
            {
                // Not listening yet: redis-server needs a moment to bind.
                lastError = e;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException($"Start phase: redis-server on port {Port} did not answer PING within {StartDeadline}; output:\n{Output()}", lastError);
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
