using System.Net.Sockets;

namespace AgentSidecar.Hosting;

/// <summary>
/// Serves more clients on a unix domain socket (mode 0600, in a 0700 directory). The sidecar opens
/// no TCP port.
/// </summary>
internal sealed class UnixSocketListener(string path, Func<Socket, Task> serve) : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public string Path { get; } = path;

    public void Start()
    {
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        Core.SidecarOptions.EnsurePrivateDirectory(dir);
        if (File.Exists(Path))
        {
            // A socket file left by a sidecar that died: nobody can be listening on it any more
            // if connecting fails.
            if (IsListening(Path))
            {
                throw new IOException($"another sidecar is already listening on {Path}");
            }

            File.Delete(Path);
        }

        _socket.Bind(new UnixDomainSocketEndPoint(Path));
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _socket.Listen(backlog: 64);
        _ = Task.Run(AcceptLoopAsync);
    }

    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
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
