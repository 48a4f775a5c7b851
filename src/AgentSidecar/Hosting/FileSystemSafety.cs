using System.Runtime.InteropServices;

namespace AgentSidecar.Hosting;

/// <summary>
/// The sidecar's rules for the paths it is given (<c>--data-dir</c>, <c>--listen</c>): it creates
/// what is missing as private (0700), never changes the mode of a directory it did not create, never
/// follows a symbolic link for its run directory or socket, and never deletes a file that is not its
/// own stale socket. Problem (found by probing): <c>--listen /tmp/x.sock</c> made /tmp 0700 (as root,
/// every other user lost it), a regular file at the socket path was deleted, and a symlinked run
/// directory was followed and its target chmodded.
/// </summary>
internal static partial class FileSystemSafety
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public enum Kind
    {
        Missing,
        Directory,
        Socket,
        SymbolicLink,
        Other,
    }

    /// <summary>Creates <paramref name="dir"/> (0700, parents as the umask says) if missing; refuses a symbolic link; leaves an existing directory's mode alone.</summary>
    public static void EnsureDirectory(string dir, string what)
    {
        switch (KindOf(dir))
        {
            case Kind.Missing:
                Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
                Directory.CreateDirectory(dir, Private);
                return;
            case Kind.Directory:
                return;
            case Kind.SymbolicLink:
                throw new IOException($"{what} {dir} is a symbolic link; give the real directory");
            default:
                throw new IOException($"{what} {dir} exists and is not a directory");
        }
    }

    /// <summary>
    /// Makes room for the socket at <paramref name="path"/>: only a stale socket (nobody listens) is
    /// removed; a live one, a symbolic link or any other file is refused.
    /// </summary>
    public static void PrepareSocketPath(string path, Func<string, bool> isListening)
    {
        switch (KindOf(path))
        {
            case Kind.Missing:
                return;
            case Kind.Socket when isListening(path):
                throw new IOException($"another sidecar is already listening on {path}");
            case Kind.Socket:
                File.Delete(path);
                return;
            case Kind.SymbolicLink:
                throw new IOException($"the socket path {path} is a symbolic link; give another path");
            default:
                throw new IOException($"{path} exists and is not a socket; give another --listen path (it is never deleted)");
        }
    }

    public static Kind KindOf(string path)
    {
        // lstat(2): .NET's file APIs do not tell a socket from a regular file.
        Span<byte> buffer = stackalloc byte[256];
        if (Lstat(path, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return Kind.Missing;
        }

        // st_mode: after st_dev, st_ino (and st_nlink on x86-64) in Linux's struct stat.
        var modeOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
        var mode = BitConverter.ToUInt32(buffer.Slice(modeOffset, 4));
        return (mode & 0xF000) switch
        {
            0x4000 => Kind.Directory,
            0xC000 => Kind.Socket,
            0xA000 => Kind.SymbolicLink,
            _ => Kind.Other,
        };
    }

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Lstat(string path, ref byte buffer);
}
