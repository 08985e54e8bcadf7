using System.Runtime.InteropServices;
using System.Text;

namespace Orleans.Patterns.Storage;

/// <summary>
/// Crash-safe file replacement: after <see cref="Replace"/> returns, either the old or the new
/// content is on disk and survives power loss, never a mix.
/// </summary>
/// <remarks>
/// Steps: write a uniquely named temp file in the target directory, fsync it, rename it over the
/// target (atomic within one file system), then fsync the directory so the rename itself is durable.
/// .NET cannot open a directory as a <see cref="Microsoft.Win32.SafeHandles.SafeFileHandle"/> on Unix
/// (it rejects directories), so the directory fsync calls libc directly. On Windows there is no
/// directory handle to flush; NTFS journals the rename's metadata, but .NET's File.Move does not ask for
/// write-through, so the very last rename can be lost on power failure (the old version then remains).
/// </remarks>
internal static partial class DurableFile
{
    // errno for "this file system cannot fsync a directory" (same number on Linux and macOS); the
    // rename is then as durable as that file system makes it, and failing the write would only
    // report a state that is in fact stored as lost.
    private const int EInval = 22;

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
    public static void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        var parent = Path.GetDirectoryName(directory);
        if (parent is not null)
        {
            EnsureDirectory(parent);
        }

        Directory.CreateDirectory(directory);
        if (parent is not null)
        {
            FlushDirectory(parent);
        }
    }

    public static void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(NullTerminatedUtf8(directory), 0 /* O_RDONLY; directories can be opened read-only */);
        if (fd < 0)
        {
            throw new IOException($"Could not open directory '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EInval)
                {
                    throw new IOException($"fsync of directory '{directory}' failed (errno {errno}).");
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

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

    private static byte[] NullTerminatedUtf8(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    // Byte arrays and ints are blittable, so plain DllImport needs no unsafe code.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
