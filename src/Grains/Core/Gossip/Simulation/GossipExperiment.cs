using System.Diagnostics;

namespace Orleans.Patterns.Gossip.Simulation;

/// <summary>
/// Runs a <see cref="GossipScenario"/> on a <see cref="GossipSimulation"/> and measures it from the members' own view
/// changes: when each member learnt the update, when each survivor declared each crashed member dead, and which
/// suspicions and deaths were about members that had not failed. The fault schedule comes from the scenario's seed
/// alone, so runs with and without Lifeguard face the same crashes and stalls.
/// </summary>
public static class GossipExperiment
{
    private const int Updater = 0;

    public static GossipScenarioResult Run(GossipScenario scenario, bool lifeguard)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        scenario.Validate();
        var clock = Stopwatch.StartNew();
        var options = scenario.Options with { Lifeguard = lifeguard };
        var n = scenario.Members;
        var faults = new Random(scenario.Seed);
        var order = Enumerable.Range(1, n - 1).ToArray();
        faults.Shuffle(order);
        var crashed = order.Take(scenario.Crashes).ToArray();
        var stallCount = (int)Math.Round(scenario.StallFraction * n);
        var stalled = order.Skip(scenario.Crashes).Take(Math.Min(stallCount, n - 1 - scenario.Crashes)).ToArray();
        var slow = order.Skip(scenario.Crashes + stalled.Length).Take((int)Math.Round(scenario.SlowFraction * n)).ToArray();
        var slowFrom = scenario.FaultsFrom;
        var slowUntil = scenario.Duration - TimeSpan.FromSeconds(10);
        var isSlow = new bool[n];
        foreach (var member in slow)
        {
            isSlow[member] = true;
        }

        var crashAt = new TimeSpan?[n];
        var stallStart = new TimeSpan?[n];
        var stallEnd = new TimeSpan[n];
        var latestStallStart = scenario.Duration - scenario.StallMax - TimeSpan.FromSeconds(5);
        for (var i = 0; i < crashed.Length; i++)
        {
            crashAt[crashed[i]] = scenario.FaultsFrom + TimeSpan.FromSeconds(i);
        }

        foreach (var member in stalled)
        {
            var start = scenario.FaultsFrom + ((latestStallStart - scenario.FaultsFrom) * faults.NextDouble());
            stallStart[member] = start;
            stallEnd[member] = start + scenario.StallMin + ((scenario.StallMax - scenario.StallMin) * faults.NextDouble());
        }

        var simulation = new GossipSimulation(n, scenario.Seed, options, scenario.Network);
        var updateAt = scenario.WarmUp;
        var informed = new TimeSpan?[n];
        var detected = new Dictionary<(int Observer, int Crashed), TimeSpan>();
        var firstSuspicion = new Dictionary<int, TimeSpan>();
        var falselyDead = new HashSet<int>();
        int falseSuspicions = 0, stallSuspicions = 0, falseDeaths = 0, maxHealth = 0;
        long messagesAtWarmUp = 0;
        var updaterName = GossipSimulation.NameOf(Updater);

        simulation.OnChange = (observer, change) =>
        {
            var target = IndexOf(change.Member);
            var now = change.At;

            switch (change.Change)
            {
                case MembershipChange.Updated or MembershipChange.Recovered when target == Updater && change.Status.Incarnation >= 1:
                    informed[observer.Index] ??= now - updateAt;
                    break;
                case MembershipChange.Suspected when change.RaisedHere:
                    if (crashAt[target] is { } crashedAt && now >= crashedAt)
                    {
                        firstSuspicion.TryAdd(target, now - crashedAt);
                    }
                    else if ((stallStart[target] is { } start && now >= start && now <= stallEnd[target] + scenario.HealthyAfterStall)
                        || (isSlow[target] && now >= slowFrom && now <= slowUntil + scenario.HealthyAfterStall))
                    {
                        stallSuspicions++;
                    }
                    else
                    {
                        falseSuspicions++;
                    }

                    break;
                case MembershipChange.Dead:
                    if (crashAt[target] is { } crashTime && now >= crashTime)
                    {
                        detected.TryAdd((observer.Index, target), now - crashTime);
                    }
                    else
                    {
                        falselyDead.Add(target);
                        if (change.RaisedHere)
                        {
                            falseDeaths++;
                        }
                    }

                    break;
            }
        };

        simulation.At(scenario.WarmUp, () =>
        {
            messagesAtWarmUp = simulation.MessagesSent;
            var updater = simulation.Members[Updater];
            updater.Node.UpdateMetadata(updater.Node.Self.WithTags([new("version", "2")]));
            informed[Updater] = TimeSpan.Zero;
        });
        foreach (var member in crashed)
        {
            simulation.At(crashAt[member]!.Value, () => simulation.Crash(simulation.Members[member]));
        }

        foreach (var member in stalled)
        {
            simulation.At(stallStart[member]!.Value, () => simulation.Stall(simulation.Members[member], stallEnd[member] - stallStart[member]!.Value));
        }

        if (slow.Length > 0)
        {
            simulation.At(slowFrom, () =>
            {
                foreach (var member in slow)
                {
                    simulation.Members[member].ProcessingLag = scenario.SlowLag;
                }
            });
            simulation.At(slowUntil, () =>
            {
                foreach (var member in slow)
                {
                    simulation.Members[member].ProcessingLag = TimeSpan.Zero;
                }
            });
        }

        for (var second = TimeSpan.FromSeconds(1); second < scenario.Duration; second += TimeSpan.FromSeconds(1))
        {
            simulation.At(second, () =>
            {
                foreach (var member in simulation.Members)
                {
                    maxHealth = Math.Max(maxHealth, member.Node.LocalHealth);
                }
            });
        }

        simulation.RunUntil(scenario.Duration);

        var detections = new List<TimeSpan>();
        var undetected = 0;
        foreach (var target in crashed)
        {
            for (var observer = 0; observer < n; observer++)
            {
                if (crashAt[observer] is not null)
                {
                    continue;
                }

                if (detected.TryGetValue((observer, target), out var time))
                {
                    detections.Add(time);
                }
                else
                {
                    undetected++;
                }
            }
        }

        detections.Sort();
        var liveMemberSeconds = Enumerable.Range(0, n)
            .Sum(i => ((crashAt[i] ?? scenario.Duration) - scenario.WarmUp).TotalSeconds);
        var periods = liveMemberSeconds / options.ProbeInterval.TotalSeconds;
        var messagesAfterWarmUp = simulation.MessagesSent - messagesAtWarmUp;
        return new GossipScenarioResult
        {
            Scenario = scenario,
            Lifeguard = lifeguard,
            Informed = [.. informed.Where(t => t is not null).Select(t => t!.Value).Order()],
            Audience = n,
            Detection = detections,
            FirstSuspicion = [.. firstSuspicion.Values.Order()],
            Undetected = undetected,
            FalseSuspicions = falseSuspicions,
            StallSuspicions = stallSuspicions,
            FalseDeaths = falseDeaths,
            FalselyDeadMembers = falselyDead.Count,
            Messages = simulation.MessagesSent,
            MessagesAfterWarmUp = messagesAfterWarmUp,
            MessagesByKind = Enum.GetValues<SwimMessageKind>().ToDictionary(k => k, simulation.SentOf),
            MessagesPerMemberPerPeriod = messagesAfterWarmUp / periods,
            UpdatesPerMessage = simulation.MessagesSent == 0 ? 0 : (double)simulation.UpdatesSent / simulation.MessagesSent,
            MaxLocalHealth = maxHealth,
            WallTime = clock.Elapsed,
            EventsProcessed = simulation.EventsProcessed,
        };

        static int IndexOf(string name) => int.Parse(name.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
    }
}
