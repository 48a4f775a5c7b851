using Microsoft.Extensions.Hosting;

namespace AgentSidecar.Hosting;

/// <summary>The process's exit code, and the ways a client or a failed start ends the sidecar.</summary>
internal sealed class SidecarExit(IHostApplicationLifetime lifetime)
{
    private int _code;

    public int Code => _code;

    /// <summary>What stopped the start, reported by the program as "cannot start".</summary>
    public Exception? StartFailure { get; private set; }

    public void Set(int code) => Interlocked.CompareExchange(ref _code, code, 0);

    /// <summary>The primary client sent <c>exit</c>: 0 after <c>shutdown</c>, else 1 (as in LSP).</summary>
    public void Request(int code)
    {
        Set(code);
        lifetime.StopApplication();
    }

    public void StartFailed(Exception ex)
    {
        StartFailure = ex;
        Set(2);
    }
}
