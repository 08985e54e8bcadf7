using Orleans.Patterns.History;

namespace Orleans.Patterns.Tests.History;

[Trait("Category", "Unit")]
public sealed class HistoryJsonTests
{
    // The sample of docs/ARCHITECTURE.md, "Operation histories (JSON lines)", verbatim.
    private const string SamplePut = """{"client":3,"op":"put","key":"k1","value":"v7","call_ns":1200,"return_ns":3400,"ok":true}""";
    private const string SampleGet = """{"client":5,"op":"get","key":"k1","call_ns":2000,"return_ns":2600,"ok":true,"output":"v7"}""";
    private const string SampleCas = """{"client":2,"op":"cas","key":"k1","expected":"v7","value":"v8","call_ns":4000,"return_ns":null,"ok":null}""";

    [Theory]
    [InlineData(SamplePut)]
    [InlineData(SampleGet)]
    [InlineData(SampleCas)]
    [InlineData("""{"client":1,"op":"get","key":"k9","call_ns":5,"return_ns":6,"ok":true,"output":null}""")]
    [InlineData("""{"client":1,"op":"get","key":"k9","call_ns":5,"return_ns":6,"ok":false}""")]
    [InlineData("""{"client":1,"op":"delete","key":"k9","call_ns":5,"return_ns":6,"ok":true}""")]
    [InlineData("""{"client":1,"op":"cas","key":"k9","expected":null,"value":"a+b <é>","call_ns":5,"return_ns":6,"ok":true,"output":true}""")]
    [InlineData("""{"client":1,"op":"cas","key":"k9","expected":"x","value":"y","call_ns":5,"return_ns":6,"ok":true,"output":false}""")]
    [InlineData("""{"client":4,"op":"txn","ops":[{"op":"get","key":"k1","output":null},{"op":"put","key":"k2","value":"v"},{"op":"cas","key":"k3","expected":"a","value":"b","output":false},{"op":"delete","key":"k4"}],"call_ns":7,"return_ns":9,"ok":true}""")]
    [InlineData("""{"client":4,"op":"txn","ops":[{"op":"get","key":"k1"},{"op":"put","key":"k2","value":"v"}],"call_ns":7,"return_ns":null,"ok":null}""")]
    public void Line_RoundTripsExactly(string line) =>
        Assert.Equal(line, HistoryJson.FormatLine(HistoryJson.ParseLine(line)));

    [Fact]
    public void SampleLines_ParseToTheirMeaning()
    {
        HistoryOperation put = HistoryJson.ParseLine(SamplePut);
        Assert.Equal(
            new HistoryOperation { Client = 3, Op = HistoryOpKind.Put, Key = "k1", Value = "v7", CallNs = 1200, ReturnNs = 3400, Ok = true },
            put);

        HistoryOperation get = HistoryJson.ParseLine(SampleGet);
        Assert.Equal((HistoryOpKind.Get, "v7", (long?)2600, (bool?)true), (get.Op, get.Output, get.ReturnNs, get.Ok));

        HistoryOperation cas = HistoryJson.ParseLine(SampleCas);
        Assert.Equal((HistoryOpKind.Cas, "v7", "v8", (long?)null, (bool?)null, (bool?)null), (cas.Op, cas.Expected, cas.Value, cas.ReturnNs, cas.Ok, cas.Swapped));
    }

    [Fact]
    public void File_RoundTripsExactly_AndSkipsBlankLines()
    {
        string text = SamplePut + "\n" + SampleGet + "\n\n" + SampleCas + "\n";
        List<HistoryOperation> history = [.. HistoryJson.Read(new StringReader(text))];
        Assert.Equal(3, history.Count);

        var written = new StringWriter();
        HistoryJson.Write(written, history);
        Assert.Equal(text.Replace("\n\n", "\n", StringComparison.Ordinal), written.ToString());
    }

    [Theory]
    [InlineData("""{"client":1,"op":"get","key":"k","call_ns":1,"return_ns":2,"ok":true}""", "output")]
    [InlineData("""{"client":1,"op":"get","key":"k","call_ns":1,"return_ns":null,"ok":null,"output":"x"}""", "output")]
    [InlineData("""{"client":1,"op":"put","key":"k","value":"v","call_ns":1,"return_ns":2,"ok":true,"output":"v"}""", "output")]
    [InlineData("""{"client":1,"op":"put","key":"k","value":"v","call_ns":1,"return_ns":null,"ok":true}""", "return_ns")]
    [InlineData("""{"client":1,"op":"put","key":"k","value":"v","call_ns":1,"ok":true}""", "return_ns")]
    [InlineData("""{"client":1,"op":"cas","key":"k","value":"v","call_ns":1,"return_ns":2,"ok":true}""", "expected")]
    [InlineData("""{"client":1,"op":"merge","key":"k","call_ns":1,"return_ns":2,"ok":true}""", "merge")]
    [InlineData("""{"client":1,"op":"put","key":"k","value":3,"call_ns":1,"return_ns":2,"ok":true}""", "type")]
    [InlineData("""[1,2]""", "object")]
    public void MalformedLine_IsRejected_NotGuessed(string line, string mentioned)
    {
        FormatException error = Assert.Throws<FormatException>(() => HistoryJson.ParseLine(line));
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadErrors_NameTheLine()
    {
        string text = SamplePut + "\n" + "{\"client\":1}" + "\n";
        FormatException error = Assert.Throws<FormatException>(() => HistoryJson.Read(new StringReader(text)).ToList());
        Assert.StartsWith("History line 2:", error.Message, StringComparison.Ordinal);
    }
}
