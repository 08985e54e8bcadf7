using Orleans.Patterns.Users;

namespace Orleans.Patterns.Client.Workload;

/// <summary>How users moved between two location snapshots around a silo leaving.</summary>
internal sealed record Movement(int Moved, int Stayed, int UnexpectedMoves, int OffRing, Dictionary<(string From, string To), int> Flows, List<string> Examples)
{
    public static Movement Compare(
        IReadOnlyDictionary<string, GrainLocation> before, IReadOnlyDictionary<string, GrainLocation> after, string leftSilo, ClientRing ring)
    {
        int moved = 0, stayed = 0, unexpected = 0, offRing = 0;
        var flows = new Dictionary<(string, string), int>();
        var examples = new List<string>();
        foreach (var (user, was) in before)
        {
            var now = after[user];
            if (!now.Silo.Equals(ring.OwnerOf(user)))
            {
                offRing++;
            }

            if (now.Silo.Equals(was.Silo))
            {
                stayed++;
                continue;
            }

            moved++;
            if (was.SiloName != leftSilo)
            {
                unexpected++;
            }

            flows[(was.SiloName, now.SiloName)] = flows.GetValueOrDefault((was.SiloName, now.SiloName)) + 1;
            if (examples.Count < 3)
            {
                examples.Add($"{user}: {was.SiloName} → {now.SiloName}");
            }
        }

        return new Movement(moved, stayed, unexpected, offRing, flows, examples);
    }
}
