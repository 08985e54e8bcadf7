using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Patterns.Storage;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Orleans.Patterns.Tests.Storage;

[Trait("Category", "Unit")]
public sealed class FileGrainStorageTests : IDisposable
{
    private const string StateName = "counter";
    private static readonly GrainId Grain = GrainId.Create("counter-test", "Key/1 ü");

    private readonly string _root = Path.Combine(Path.GetTempPath(), "file-grain-storage-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private readonly FileGrainStorage _storage;

    public FileGrainStorageTests()
    {
        _storage = new FileGrainStorage(
            "durable",
            _root,
            new OrleansGrainStorageSerializer(_services.GetRequiredService<Serializer>()),
            _services.GetRequiredService<IActivatorProvider>(),
            NullLogger<FileGrainStorage>.Instance);
    }

    public void Dispose()
    {
        _services.Dispose();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string StatePath => GrainStateFileNames.GetFilePath(Path.GetFullPath(_root), StateName, Grain);

    private async Task<GrainState<CounterState>> ReadAsync()
    {
        var state = new GrainState<CounterState>();
        await _storage.ReadStateAsync(StateName, Grain, state);
        return state;
    }

    private async Task<GrainState<CounterState>> WriteNewAsync(int value)
    {
        var state = new GrainState<CounterState>(new CounterState { Value = value, Note = "n" + value });
        await _storage.WriteStateAsync(StateName, Grain, state);
        return state;
    }

    [Fact]
    public async Task Read_of_missing_record_gives_fresh_state_and_no_etag()
    {
        var state = await ReadAsync();

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(0, state.State!.Value);
    }

    [Fact]
    public async Task Write_then_read_round_trips_state_and_etag()
    {
        var written = await WriteNewAsync(41);
        written.State!.Value = 42;
        await _storage.WriteStateAsync(StateName, Grain, written);

        var read = await ReadAsync();

        Assert.True(read.RecordExists);
        Assert.Equal(42, read.State!.Value);
        Assert.Equal("n41", read.State!.Note);
        Assert.Equal(written.ETag, read.ETag);
        Assert.StartsWith("2-", read.ETag);
        Assert.True(File.Exists(StatePath));
        Assert.Matches("^[0-9a-f]{2}$", Path.GetFileName(Path.GetDirectoryName(StatePath)));
    }

    [Fact]
    public async Task Write_with_stale_etag_throws_with_both_etags()
    {
        var first = await WriteNewAsync(1);
        var stale = new GrainState<CounterState>(new CounterState { Value = 99 }, first.ETag!);
        first.State!.Value = 2;
        await _storage.WriteStateAsync(StateName, Grain, first);

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync(StateName, Grain, stale));

        Assert.Equal(first.ETag, e.StoredEtag);
        Assert.Equal(stale.ETag, e.CurrentEtag);
        Assert.Equal(2, (await ReadAsync()).State!.Value);
    }

    [Fact]
    public async Task Write_without_etag_over_existing_record_throws()
    {
        var existing = await WriteNewAsync(1);

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => WriteNewAsync(7));

        Assert.Equal(existing.ETag, e.StoredEtag);
        Assert.Null(e.CurrentEtag);
    }

    [Fact]
    public async Task Clear_deletes_the_record_and_old_etags_never_match_again()
    {
        var state = await WriteNewAsync(5);
        var beforeClear = state.ETag;

        await _storage.ClearStateAsync(StateName, Grain, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.False(File.Exists(StatePath));
        Assert.False((await ReadAsync()).RecordExists);

        // Recreated record starts at version 1 again but with a new record id, so it is a different ETag.
        var recreated = await WriteNewAsync(6);
        Assert.NotEqual(beforeClear, recreated.ETag);
    }

    [Fact]
    public async Task Clear_with_stale_etag_throws_and_keeps_the_file()
    {
        var state = await WriteNewAsync(5);
        var stale = new GrainState<CounterState>(new CounterState(), "1-0000000000000000");

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync(StateName, Grain, stale));

        Assert.Equal(5, (await ReadAsync()).State!.Value);
        Assert.Equal(state.ETag, (await ReadAsync()).ETag);
    }

    [Fact]
    public async Task Truncated_file_gives_an_error_naming_the_file()
    {
        await WriteNewAsync(3);
        var bytes = await File.ReadAllBytesAsync(StatePath);
        await File.WriteAllBytesAsync(StatePath, bytes[..^3]);

        var e = await Assert.ThrowsAsync<InvalidDataException>(ReadAsync);

        Assert.Contains(StatePath, e.Message);
        Assert.Contains("bytes", e.Message);
    }

    [Theory]
    [InlineData(0)]    // magic
    [InlineData(17)]   // version
    [InlineData(30)]   // payload
    [InlineData(-1)]   // checksum
    public async Task Flipped_bit_gives_an_error_naming_the_file(int offset)
    {
        await WriteNewAsync(3);
        var bytes = await File.ReadAllBytesAsync(StatePath);
        var index = offset >= 0 ? offset : bytes.Length + offset;
        bytes[index] ^= 0x10;
        await File.WriteAllBytesAsync(StatePath, bytes);

        var e = await Assert.ThrowsAsync<InvalidDataException>(ReadAsync);

        Assert.Contains(StatePath, e.Message);
    }

    [Fact]
    public async Task Temp_file_left_by_a_crash_mid_write_does_not_affect_reads_or_writes()
    {
        var state = await WriteNewAsync(10);

        // What a writer that died between creating and renaming its temp file leaves behind.
        var orphan = $"{StatePath}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(orphan, Encoding.UTF8.GetBytes("half a state fi"));

        var read = await ReadAsync();
        Assert.Equal(10, read.State!.Value);
        Assert.Equal(state.ETag, read.ETag);

        read.State!.Value = 11;
        await _storage.WriteStateAsync(StateName, Grain, read);
        Assert.Equal(11, (await ReadAsync()).State!.Value);
    }

    [Fact]
    public void Grains_differing_only_in_case_get_different_files()
    {
        var upper = GrainStateFileNames.GetFilePath(_root, StateName, GrainId.Create("counter-test", "ABC"));
        var lower = GrainStateFileNames.GetFilePath(_root, StateName, GrainId.Create("counter-test", "abc"));

        Assert.NotEqual(upper.ToUpperInvariant(), lower.ToUpperInvariant());
    }

    [Fact]
    public void Very_long_grain_keys_stay_within_file_name_limits()
    {
        var longKey = new string('x', 400);
        var a = GrainStateFileNames.GetFilePath(_root, StateName, GrainId.Create("counter-test", longKey));
        var b = GrainStateFileNames.GetFilePath(_root, StateName, GrainId.Create("counter-test", longKey + "y"));

        Assert.True(Path.GetFileName(a).Length < 200);
        Assert.NotEqual(a, b);
    }
}
