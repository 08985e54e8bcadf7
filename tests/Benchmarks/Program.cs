using BenchmarkDotNet.Running;
using Orleans.Patterns.Benchmarks;

// Measurements that are not timings (balance, key movement) run outside BenchmarkDotNet: they are deterministic
// counts, so one pass gives the exact figure and a harness would only add minutes.
if (args.Length > 0 && args[0] == RingBalanceReport.Command)
{
    return RingBalanceReport.Run(args[1..]);
}

if (args.Length > 0 && args[0] == ShardMovementReport.Command)
{
    return ShardMovementReport.Run(args[1..]);
}

if (args.Length > 0 && LoopbackRoundTripReport.Handles(args[0]))
{
    return await LoopbackRoundTripReport.RunAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
