namespace Orleans.Patterns.Tests.Storage;

public interface ICounterTestGrain : IGrainWithStringKey
{
    Task<int> Increment();

    Task<int> Get();

    Task<SiloAddress> GetHostingSilo();
}

public sealed class CounterTestGrain(
    [PersistentState("counter", FileGrainStorageClusterTests.StorageName)] IPersistentState<CounterState> state,
    ILocalSiloDetails silo) : Grain, ICounterTestGrain
{
    public async Task<int> Increment()
    {
        state.State.Value++;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<int> Get() => Task.FromResult(state.State.Value);

    public Task<SiloAddress> GetHostingSilo() => Task.FromResult(silo.SiloAddress);
}
