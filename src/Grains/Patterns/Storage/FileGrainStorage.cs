using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Orleans.Patterns.Storage;

/// <summary>
/// Grain storage that keeps one file per (state name, grain) in a directory shared by all silos, so
/// state outlives the silo that wrote it. See <see cref="GrainStateFile"/> for the format and
/// <see cref="DurableFile"/> for what "written" means.
/// </summary>
/// <remarks>
/// ETags are checked by reading the current header before replacing the file. That check and the
/// rename are not one atomic step across processes: it catches a writer whose view is stale (the
/// usual case after an activation moved), while Orleans' single-activation guarantee is what keeps
/// two writers from racing on the same grain at the same instant.
/// Blocking file calls (fsync) run on the thread pool so they never hold a grain scheduler thread.
/// </remarks>
internal sealed partial class FileGrainStorage(
    string name,
    string rootDirectory,
    IGrainStorageSerializer serializer,
    IActivatorProvider activatorProvider,
    ILogger<FileGrainStorage> logger) : IGrainStorage
{
    private readonly string _rootDirectory = Path.GetFullPath(rootDirectory);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = GrainStateFileNames.GetFilePath(_rootDirectory, stateName, grainId);
        byte[] file;
        try
        {
            file = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            LogReadMissing(name, grainId, path);
            grainState.State = activatorProvider.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        StoredVersion version;
        T? state;
        try
        {
            (version, var payload) = GrainStateFile.Decode(path, file);
            state = serializer.Deserialize<T>(payload);
        }
        catch (Exception e)
        {
            LogReadFailed(e, name, grainId, path);
            throw;
        }

        grainState.State = state ?? activatorProvider.GetActivator<T>().Create();
        grainState.ETag = version.ToETag();
        grainState.RecordExists = true;
        LogRead(name, grainId, grainState.ETag);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = GrainStateFileNames.GetFilePath(_rootDirectory, stateName, grainId);
        // Serialized here, on the grain's turn, because the grain may change the state object again
        // as soon as it regains control; only immutable bytes go to the thread pool.
        var payload = serializer.Serialize(grainState.State).ToMemory();
        var expectedETag = grainState.ETag;

        var written = await Task.Run(
            () =>
            {
                var current = ReadCurrentVersion(path);
                EnsureETagMatches(path, grainId, current, expectedETag);
                var next = current is { } c
                    ? c with { Version = c.Version + 1 }
                    : new StoredVersion(NewRecordId(), 1);
                DurableFile.EnsureDirectory(Path.GetDirectoryName(path)!);
                DurableFile.Replace(path, GrainStateFile.Encode(next, payload.Span));
                return next;
            },
            cancellationToken);

        grainState.ETag = written.ToETag();
        grainState.RecordExists = true;
        LogWritten(name, grainId, grainState.ETag);
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = GrainStateFileNames.GetFilePath(_rootDirectory, stateName, grainId);
        var expectedETag = grainState.ETag;

        await Task.Run(
            () =>
            {
                var current = ReadCurrentVersion(path);
                EnsureETagMatches(path, grainId, current, expectedETag);
                if (current is not null)
                {
                    DurableFile.Delete(path);
                }
            },
            cancellationToken);

        grainState.State = activatorProvider.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
        LogCleared(name, grainId, path);
    }

    private static StoredVersion? ReadCurrentVersion(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            Span<byte> header = stackalloc byte[GrainStateFile.HeaderLength + 4];
            var length = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            return GrainStateFile.DecodeHeader(path, header[..length]);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private void EnsureETagMatches(string path, GrainId grainId, StoredVersion? current, string? expectedETag)
    {
        var storedETag = current?.ToETag();
        if (!string.Equals(storedETag, expectedETag, StringComparison.Ordinal))
        {
            LogETagMismatch(name, grainId, storedETag, expectedETag);
            throw new InconsistentStateException(
                $"File grain storage '{name}': ETag mismatch for grain {grainId} in '{path}' (stored {storedETag ?? "<none>"}, expected {expectedETag ?? "<none>"}).",
                storedETag,
                expectedETag);
        }
    }

    private static ulong NewRecordId() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));

    [LoggerMessage(Level = LogLevel.Trace, Message = "Storage {Provider}: no state for {GrainId} at {Path}")]
    private partial void LogReadMissing(string provider, GrainId grainId, string path);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Storage {Provider}: read {GrainId}, ETag {ETag}")]
    private partial void LogRead(string provider, GrainId grainId, string eTag);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage {Provider}: cannot read state of {GrainId} from {Path}")]
    private partial void LogReadFailed(Exception exception, string provider, GrainId grainId, string path);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Storage {Provider}: wrote {GrainId}, ETag {ETag}")]
    private partial void LogWritten(string provider, GrainId grainId, string eTag);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Storage {Provider}: cleared {GrainId} at {Path}")]
    private partial void LogCleared(string provider, GrainId grainId, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage {Provider}: ETag mismatch for {GrainId}, stored {StoredETag}, expected {ExpectedETag}")]
    private partial void LogETagMismatch(string provider, GrainId grainId, string? storedETag, string? expectedETag);
}
