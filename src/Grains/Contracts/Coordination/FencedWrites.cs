using System.Globalization;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// Fencing enforced by the store itself: a resource kept in the coordination store has a fence key holding the highest
/// token that wrote to it, and every write is one transaction that checks the fence and advances it, so a stale holder
/// is refused atomically (no check-then-write window). Tokens are stored as 19 zero-padded decimal digits, so the
/// store's byte-wise value compare orders them numerically.
/// </summary>
public static class FencedWrites
{
    /// <summary>The fence key of a resource key: the key with <c>#fence</c> appended.</summary>
    public static string FenceKeyOf(string resourceKey) => resourceKey + "#fence";

    /// <summary>
    /// Writes <paramref name="value"/> to <paramref name="key"/> only if no larger token than <paramref name="token"/>
    /// has written to it, advancing the fence to the token in the same transaction. Returns the write's revision.
    /// </summary>
    /// <exception cref="StaleFencingTokenException">A holder with a larger token has written already; nothing was written.</exception>
    public static async Task<long> PutAsync(CoordinationClient client, string key, byte[] value, long token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(token, 1);
        var keyBytes = KeyQueue.Bytes(key);
        var fence = KeyQueue.Bytes(FenceKeyOf(key));
        var encoded = Encode(token);
        // "fence > token" is the refusal branch; an absent fence compares false (etcd's rule for values), so the
        // first writer passes and creates it.
        var response = await client.TxnAsync(
            new TxnRequest(
                [new Compare(fence, CompareTarget.Value, CompareResult.Greater) { Value = encoded }],
                [new RangeRequest(fence)],
                [new PutRequest(fence, encoded), new PutRequest(keyBytes, value)]),
            cancellationToken);
        if (response.Succeeded)
        {
            var highest = Decode(response.Responses[0].ResponseRange!.Kvs.Single().Value);
            throw new StaleFencingTokenException(key, token, highest);
        }

        return response.Revision;
    }

    /// <summary>A token as the fence stores it: fixed-width decimal, so byte order is numeric order.</summary>
    public static byte[] Encode(long token) => KeyQueue.Bytes(token.ToString("D19", CultureInfo.InvariantCulture));

    /// <summary>Reads a fence value back.</summary>
    public static long Decode(byte[] value) => long.Parse(KeyQueue.Text(value), NumberStyles.None, CultureInfo.InvariantCulture);
}
