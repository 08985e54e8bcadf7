namespace Orleans.Patterns.Tests.Storage;

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }

    [Id(1)]
    public string Note { get; set; } = "";
}
