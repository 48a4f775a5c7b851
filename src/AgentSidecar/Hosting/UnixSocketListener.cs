using System.Net.Sockets;

namespace AgentSidecar.Hosting;

/// <summary>
/// Serves more clients on a unix domain socket (mode 0600, in a 0700 directory). The sidecar opens
/// no TCP port.
/// </summary>
internal sealed class UnixSocketListener(string path, Func<Socket, Task> serve) : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    private int _disposed;

    public string Path { get; } = path;

    public void Start()
    {
        FileSystemSafety.EnsureDirectory(System.IO.Path.GetDirectoryName(Path)!, "the socket's directory");

        // A socket file left by a sidecar that died is removed (nobody can be listening on it any
        // more if connecting fails); anything else at the path is refused.
        FileSystemSafety.PrepareSocketPath(Path, IsListening);

        _socket.Bind(new UnixDomainSocketEndPoint(Path));
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _socket.Listen(backlog: 64);
        _ = Task.Run(AcceptLoopAsync);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_socket.IsBound && FileSystemSafety.KindOf(Path) == FileSystemSafety.Kind.Socket)
        {
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
            }
        }

        _socket.Dispose();
    }

    private static bool IsListening(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => serve(client));
        }
    }
}
