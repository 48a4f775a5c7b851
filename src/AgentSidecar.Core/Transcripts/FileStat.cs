using System.Runtime.InteropServices;
using System.Text;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// Size, identity and times of a file from a single statx(2) call: the readers poll every 10–250 ms,
/// so "nothing new" must cost one system call. .NET exposes no inode, and File.GetCreationTime falls
/// back to min(ctime, mtime) where there is no birth time, which moves on every append; statx tells
/// both apart. Elsewhere (no glibc statx) it degrades to FileInfo: no inode, no birth time.
/// </summary>
internal readonly record struct FileStat(long Size, ulong Device, ulong Inode, DateTimeOffset LastWrite, DateTimeOffset? Birth)
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStatsAndBirth = 0x7ffu | 0x800u;
    private const uint StatxBirthTimeBit = 0x800u;
    private const int StatxBufferSize = 256;
    private static volatile bool s_statxUnavailable;

    /// <summary>True when both stats name the same file object (same device and inode, when known).</summary>
    public bool SameFileAs(FileStat other) =>
        Inode == 0 || other.Inode == 0 || (Inode == other.Inode && Device == other.Device);

    public static FileStat? TryGet(string path)
    {
        if (!s_statxUnavailable)
        {
            try
            {
                return TryStatx(path);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                s_statxUnavailable = true;
            }
        }
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }
        return new FileStat(info.Length, 0, 0, new DateTimeOffset(info.LastWriteTimeUtc), null);
    }

    private static FileStat? TryStatx(string path)
    {
        var pathBytes = new byte[Encoding.UTF8.GetMaxByteCount(path.Length) + 1];
        Encoding.UTF8.GetBytes(path, pathBytes);
        var buffer = new byte[StatxBufferSize];
        if (NativeMethods.Statx(AtFdCwd, pathBytes, 0, StatxBasicStatsAndBirth, buffer) != 0)
        {
            return null; // ENOENT and friends: the caller treats it as "not there (yet)"
        }
        // Offsets from struct statx in <linux/stat.h>: fixed-size fields, the same layout on every
        // architecture, in native byte order.
        var b = buffer.AsSpan();
        uint mask = MemoryMarshal.Read<uint>(b);
        ushort mode = MemoryMarshal.Read<ushort>(b[28..]);
        if ((mode & 0xF000) == 0x4000)
        {
            return null; // a directory is not a transcript
        }
        ulong inode = MemoryMarshal.Read<ulong>(b[32..]);
        long size = (long)MemoryMarshal.Read<ulong>(b[40..]);
        var birth = ReadTime(b[80..]);
        var mtime = ReadTime(b[112..]);
        ulong device = ((ulong)MemoryMarshal.Read<uint>(b[136..]) << 32) | MemoryMarshal.Read<uint>(b[140..]);
        bool hasBirth = (mask & StatxBirthTimeBit) != 0 && birth.ToUnixTimeSeconds() != 0;
        return new FileStat(size, device, inode, mtime, hasBirth ? birth : null);
    }

    private static DateTimeOffset ReadTime(ReadOnlySpan<byte> ts)
    {
        long seconds = MemoryMarshal.Read<long>(ts);
        uint nanos = MemoryMarshal.Read<uint>(ts[8..]);
        return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
    }

    private static class NativeMethods
    {
        // "libc.so.6" and not "libc": the runtime may resolve "libc" to the libc.so linker script.
        [DllImport("libc.so.6", EntryPoint = "statx", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Statx(int dirfd, byte[] pathname, int flags, uint mask, [Out] byte[] statxbuf);
    }
}
