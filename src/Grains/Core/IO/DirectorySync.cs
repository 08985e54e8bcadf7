using System.Runtime.InteropServices;
using System.Text;

namespace Orleans.Patterns.IO;

/// <summary>
/// Makes directory changes (a created, renamed or deleted file) durable, for every writer that promises durability
/// (the Raft log, the file grain storage): .NET cannot open a directory as a file handle on Unix, so it calls libc.
/// </summary>
internal static class DirectorySync
{
    // "This file system cannot fsync a directory": the change is then as durable as that file system makes it.
    private const int EInval = 22;

    /// <summary>Creates a directory chain, each newly created level flushed into its parent.</summary>
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
            Flush(parent);
        }
    }

    public static void Flush(string directory)
    {
        // Windows has no directory handle to flush; NTFS journals the metadata change.
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var path = new byte[Encoding.UTF8.GetByteCount(directory) + 1];
        Encoding.UTF8.GetBytes(directory, path);
        var fd = Open(path, 0 /* O_RDONLY */);
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

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
