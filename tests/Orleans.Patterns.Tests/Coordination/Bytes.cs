using System.Text;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Tests.Coordination;

/// <summary>Short spellings for byte-string keys and values in the coordination tests.</summary>
internal static class Bytes
{
    public static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    public static string S(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    public static string[] Keys(RangeResponse response) => [.. response.Kvs.Select(kv => S(kv.Key))];

    public static PutResponse Put(this MvccStore store, string key, string value, long lease = 0) =>
        store.Put(new PutRequest(B(key), B(value)) { Lease = lease });

    public static KeyValue? Get(this MvccStore store, string key, long revision = 0) =>
        store.Range(new RangeRequest(B(key)) { Revision = revision }).Kvs.SingleOrDefault();
}
