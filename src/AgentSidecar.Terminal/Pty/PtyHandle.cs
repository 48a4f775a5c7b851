using System.Runtime.InteropServices;

namespace AgentSidecar.Terminal.Pty;

/// <summary>
/// The PTY master fd. Problem: closing an fd number that another thread is still writing to (or
/// resizing) can hit a reused fd. Solution: a SafeHandle, so close happens only after every user
/// has released it.
/// </summary>
internal sealed class PtyHandle : SafeHandle
{
    public PtyHandle(int fd)
        : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => Libc.Close(Fd) == 0;
}
