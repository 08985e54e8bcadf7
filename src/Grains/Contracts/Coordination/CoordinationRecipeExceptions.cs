using System.Globalization;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// The lease behind a lock or an election was gone before the caller got what it waited for (its keep-alives stopped,
/// it was revoked, or it expired on the store's clock): the caller never held the lock or the leadership.
/// </summary>
public sealed class LeaseLostException(long leaseId, string message) : Exception(message)
{
    public long LeaseId { get; } = leaseId;
}

/// <summary>
/// A holder presented a fencing token older than one the resource already accepted: a newer holder exists, so this
/// one's lock or leadership has lapsed and its write must not land.
/// </summary>
public sealed class StaleFencingTokenException(string resource, long token, long highest)
    : Exception(string.Create(CultureInfo.InvariantCulture, $"fencing token {token} for '{resource}' is stale: the resource has accepted token {highest}"))
{
    public string Resource { get; } = resource;

    public long Token { get; } = token;

    public long Highest { get; } = highest;
}

/// <summary>The caller's leadership is over (resigned, or its key is gone or was recreated): it may no longer act as leader.</summary>
public sealed class LeadershipLostException(string key, string message) : Exception(message)
{
    public string Key { get; } = key;
}
