using System.Runtime.InteropServices;

namespace AgentSidecar.Terminal.Pty;

/// <summary>Setting up a PTY's master and spawning its child (the steps of docs/pty.md, "Spawn").</summary>
internal static class PtySpawn
{
    internal static unsafe void SetWindowSize(int fd, int cols, int rows)
    {
        var ws = new Libc.WinSize { Cols = (ushort)cols, Rows = (ushort)rows };
        Check(Libc.Ioctl(fd, Libc.TIOCSWINSZ, &ws), "ioctl(TIOCSWINSZ)");
    }

    internal static unsafe void EnableUtf8(int fd)
    {
        var termios = stackalloc byte[Libc.TermiosSize];
        if (Libc.Tcgetattr(fd, termios) == 0)
        {
            *(uint*)termios |= Libc.IUTF8; // c_iflag is the first field
            _ = Libc.Tcsetattr(fd, 0, termios);
        }
    }

    internal static unsafe int Spawn(PtyStartInfo info, byte* slavePath)
    {
        var actions = stackalloc byte[Libc.SpawnFileActionsSize];
        var attr = stackalloc byte[Libc.SpawnAttrSize];
        var allSignals = stackalloc byte[Libc.SigsetSize];
        var noSignals = stackalloc byte[Libc.SigsetSize];
        var strings = new List<IntPtr>();
        try
        {
            _ = Libc.FileActionsInit(actions);
            _ = Libc.SpawnAttrInit(attr);

            // No O_NOCTTY: glibc runs setsid() before the file actions, so this open makes the
            // PTY the child's controlling terminal (Ctrl-C and SIGWINCH then work).
            Check(-Libc.FileActionsAddOpen(actions, 0, slavePath, Libc.O_RDWR, 0), "addopen");
            Check(-Libc.FileActionsAddDup2(actions, 0, 1), "adddup2");
            Check(-Libc.FileActionsAddDup2(actions, 0, 2), "adddup2");
            Check(-Libc.FileActionsAddClosefrom(actions, 3), "addclosefrom");
            var cwd = Utf8(info.WorkingDirectory, strings);
            Check(-Libc.FileActionsAddChdir(actions, (byte*)cwd), "addchdir");

            // .NET ignores SIGPIPE (and more): give the child default handlers and an empty mask.
            _ = Libc.Sigfillset(allSignals);
            _ = Libc.Sigemptyset(noSignals);
            _ = Libc.SpawnAttrSetSigDefault(attr, allSignals);
            _ = Libc.SpawnAttrSetSigMask(attr, noSignals);
            _ = Libc.SpawnAttrSetFlags(attr, (short)(Libc.POSIX_SPAWN_SETSID | Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK));

            var argv = stackalloc byte*[info.Args.Count + 2];
            argv[0] = (byte*)Utf8(info.Command, strings);
            for (var i = 0; i < info.Args.Count; i++)
            {
                argv[i + 1] = (byte*)Utf8(info.Args[i], strings);
            }

            argv[info.Args.Count + 1] = null;

            var env = info.Environment;
            var envp = (byte**)NativeMemory.Alloc((nuint)(env.Count + 1), (nuint)sizeof(byte*));
            try
            {
                var k = 0;
                foreach (var (key, value) in env)
                {
                    envp[k++] = (byte*)Utf8($"{key}={value}", strings);
                }

                envp[k] = null;
                int pid;
                var rc = Libc.PosixSpawnp(&pid, argv[0], actions, attr, argv, envp);
                if (rc != 0)
                {
                    throw new PtyStartException($"cannot start '{info.Command}': {Libc.Describe(rc)}", rc);
                }

                return pid;
            }
            finally
            {
                NativeMemory.Free(envp);
            }
        }
        finally
        {
            _ = Libc.FileActionsDestroy(actions);
            _ = Libc.SpawnAttrDestroy(attr);
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }

    internal static IntPtr Utf8(string s, List<IntPtr> owned)
    {
        var p = Marshal.StringToCoTaskMemUTF8(s);
        owned.Add(p);
        return p;
    }

    internal static void Check(int rc, string what)
    {
        if (rc != 0)
        {
            var errno = rc < 0 && rc != -1 ? -rc : Libc.Errno;
            throw new PtyStartException($"{what} failed: {Libc.Describe(errno)}", errno);
        }
    }
}
