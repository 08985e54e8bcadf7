using Orleans.Patterns.IO;

namespace Orleans.Patterns.Storage;

/// <summary>
/// Crash-safe file replacement: after <see cref="Replace"/> returns, either the old or the new
/// content is on disk and survives power loss, never a mix.
/// </summary>
/// <remarks>
/// Steps: write a uniquely named temp file in the target directory, fsync it, rename it over the
/// target (atomic within one file system), then fsync the directory so the rename itself is durable.
/// .NET cannot open a directory as a <see cref="Microsoft.Win32.SafeHandles.SafeFileHandle"/> on Unix
/// (it rejects directories), so the directory fsync goes through <see cref="DirectorySync"/>. On Windows there is no
/// directory handle to flush; NTFS journals the rename's metadata, but .NET's File.Move does not ask for
/// write-through, so the very last rename can be lost on power failure (the old version then remains).
/// </remarks>
internal static class DurableFile
{
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(path)!;

        // A fresh name per write: two writers (say, a stale activation on another silo) never share a
        // temp file, and a crash leaves only an orphan that readers never open.
        var temp = $"{path}.{Guid.NewGuid():N}{GrainStateFileNames.TempExtension}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        FlushDirectory(directory);
    }

    public static void Delete(string path)
    {
        File.Delete(path);
        FlushDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Creates a directory chain, making each newly created level durable in its parent.</summary>
    public static void EnsureDirectory(string directory) => DirectorySync.EnsureDirectory(directory);

    public static void FlushDirectory(string directory) => DirectorySync.Flush(directory);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: an orphaned temp file is harmless, readers only open final names.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
