using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

/// <summary>A few <see cref="SwimNode"/>s that know each other, with messages handed over by the test, one at a time.</summary>
internal sealed class SwimTestGroup
{
    public SwimTestGroup(int members, SwimOptions? options = null, int seed = 7)
    {
        Options = options ?? new SwimOptions();
        var all = Enumerable.Range(1, members).Select(i => new Member($"n{i}", $"10.0.0.{i}:11111")).ToArray();
        Nodes = [.. all.Select((m, i) => new SwimNode(m, Options, new Random(seed + i), TimeSpan.Zero))];
        foreach (var node in Nodes)
        {
            node.Bootstrap(all);
        }

        // The start-up self-announcements are not what the tests are about.
        foreach (var node in Nodes)
        {
            Drain(node);
        }
    }

    public SwimOptions Options { get; }

    public List<SwimNode> Nodes { get; }

    public SwimNode Add(SwimNode node)
    {
        Nodes.Add(node);
        return node;
    }

    public SwimNode this[string name] => Nodes.Single(n => n.Name == name);

    public List<MembershipEvent> Events { get; } = [];

    /// <summary>Takes the node's output; events go to <see cref="Events"/>.</summary>
    public List<SwimMessage> Drain(SwimNode node)
    {
        var ready = node.GetReady();
        Events.AddRange(ready.Events);
        return [.. ready.Messages];
    }

    public List<SwimMessage> Tick(SwimNode node, TimeSpan now)
    {
        node.Tick(now);
        return Drain(node);
    }

    public List<SwimMessage> Deliver(SwimMessage message, TimeSpan now)
    {
        var to = this[message.To];
        to.Receive(message, now);
        return Drain(to);
    }

    /// <summary>Delivers messages and everything they cause, breadth first, except to members in <paramref name="down"/>.</summary>
    public void DeliverAll(IEnumerable<SwimMessage> messages, TimeSpan now, params string[] down)
    {
        var queue = new Queue<SwimMessage>(messages);
        while (queue.TryDequeue(out var message))
        {
            if (!down.Contains(message.To))
            {
                foreach (var reply in Deliver(message, now))
                {
                    queue.Enqueue(reply);
                }
            }
        }
    }

    /// <summary>Runs every node's timers every <paramref name="step"/> up to <paramref name="until"/>, delivering at once.</summary>
    public void Run(TimeSpan from, TimeSpan until, TimeSpan step, params string[] down)
    {
        for (var now = from; now <= until; now += step)
        {
            foreach (var node in Nodes.Where(n => !down.Contains(n.Name)))
            {
                DeliverAll(Tick(node, now), now, down);
            }
        }
    }
}
