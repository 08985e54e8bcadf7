using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>
/// Runs the real <c>etcdctl</c> (API v3) against an endpoint. A machine without it fails the test with what to
/// install: these tests exist to prove interoperability, so skipping them would prove nothing.
/// </summary>
public sealed class Etcdctl(string endpoints, ITestOutputHelper? output = null)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs one command to completion and returns its exit code and output.</summary>
    public async Task<EtcdctlResult> RunAsync(string[] args, string? stdin = null, TimeSpan? timeout = null)
    {
        using var process = Start(args, redirectInput: stdin is not null);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"etcdctl {string.Join(' ', args)} did not finish within {timeout ?? DefaultTimeout}; output so far: {await stdout} {await stderr}");
        }

        var result = new EtcdctlResult(process.ExitCode, await stdout, await stderr);
        output?.WriteLine($"$ etcdctl {string.Join(' ', args)} -> {result.ExitCode}\n{result.Stdout}{result.Stderr}");
        return result;
    }

    /// <summary>Runs a command that must succeed and returns its standard output.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"etcdctl {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}{result.Stdout}");
        }

        return result.Stdout;
    }

    /// <summary>Starts a command that runs until killed (watch, lock, elect); read its lines, then dispose it.</summary>
    public EtcdctlProcess StartLongRunning(params string[] args) => new(Start(args, redirectInput: false), args, output);

    private Process Start(string[] args, bool redirectInput)
    {
        var info = new ProcessStartInfo("etcdctl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add($"--endpoints={endpoints}");
        info.ArgumentList.Add("--dial-timeout=5s");
        info.ArgumentList.Add("--command-timeout=20s");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException("etcdctl did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                "etcdctl is not installed or not on PATH; these interop tests need the real client: apt-get install etcd-client (CI's .ci/run installs it).", e);
        }
    }
}

public sealed record EtcdctlResult(int ExitCode, string Stdout, string Stderr);

/// <summary>A running etcdctl whose standard output is read line by line; disposing kills it.</summary>
public sealed class EtcdctlProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string[] _args;
    private readonly ITestOutputHelper? _output;
    private readonly StringBuilder _stderr = new();
    private int _disposed;

    internal EtcdctlProcess(Process process, string[] args, ITestOutputHelper? output)
    {
        _process = process;
        _args = args;
        _output = output;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The next line of standard output, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<string> ReadLineAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            var line = await _process.StandardOutput.ReadLineAsync(deadline.Token)
                ?? throw new InvalidOperationException($"etcdctl {string.Join(' ', _args)} ended its output (exit {(_process.HasExited ? _process.ExitCode : -1)}): {Stderr}");
            _output?.WriteLine($"[etcdctl {_args[0]}] {line}");
            return line;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"etcdctl {string.Join(' ', _args)} printed no line within {timeout}; stderr: {Stderr}");
        }
    }

    /// <summary>Reads <paramref name="count"/> lines.</summary>
    public async Task<IReadOnlyList<string>> ReadLinesAsync(int count, TimeSpan timeout)
    {
        var lines = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            lines.Add(await ReadLineAsync(timeout));
        }

        return lines;
    }

    /// <summary>Sends SIGINT, as Ctrl+C would: etcdctl's lock and elect then release what they hold before exiting.</summary>
    public void Interrupt()
    {
        if (SignalInterrupt(_process.Id) != 0)
        {
            throw new InvalidOperationException($"could not send SIGINT to etcdctl (pid {_process.Id}).");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static int SignalInterrupt(int pid) => Kill(pid, 2);

    /// <summary>Kills the process (SIGKILL: the way a crashed client goes away).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
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
}
