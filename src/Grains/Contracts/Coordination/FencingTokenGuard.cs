namespace Orleans.Patterns.Coordination;

/// <summary>
/// What a protected resource keeps to refuse stale lock holders (Kleppmann, "How to do distributed locking", 2016):
/// the highest fencing token it accepted per resource. A token equal to the highest is the current holder writing
/// again; a smaller one is a holder whose lock lapsed, and is refused. Thread-safe.
/// </summary>
public sealed class FencingTokenGuard
{
    private readonly Dictionary<string, long> _highest = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Accepts <paramref name="token"/> for <paramref name="resource"/> and remembers it if it is the highest yet.</summary>
    /// <exception cref="StaleFencingTokenException">A larger token was already accepted for the resource.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The token is not positive (create revisions start at 1).</exception>
    public void Accept(string resource, long token)
    {
        if (!TryAccept(resource, token, out var highest))
        {
            throw new StaleFencingTokenException(resource, token, highest);
        }
    }

    /// <summary>As <see cref="Accept"/>, answering false (and the highest accepted token) instead of throwing.</summary>
    public bool TryAccept(string resource, long token, out long highest)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentOutOfRangeException.ThrowIfLessThan(token, 1);
        lock (_lock)
        {
            if (_highest.TryGetValue(resource, out highest) && token < highest)
            {
                return false;
            }

            _highest[resource] = highest = token;
            return true;
        }
    }

    /// <summary>The highest token accepted for the resource, or 0 when none was.</summary>
    public long Highest(string resource)
    {
        lock (_lock)
        {
            return _highest.GetValueOrDefault(resource);
        }
    }
}
