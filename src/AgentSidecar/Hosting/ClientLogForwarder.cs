using AgentSidecar.Protocol;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// Sends the sidecar's warnings and errors to every initialized client as <c>window/logMessage</c>
/// (LSP's MessageType: 1 error, 2 warning), so an editor shows them without reading stderr. The
/// connection layer's own category (<c>rpc</c>: a client's bad frames) stays on stderr only, and a
/// message logged while forwarding is never forwarded again.
/// </summary>
internal sealed class ClientLogForwarder(ClientConnections clients) : ILoggerProvider
{
    [ThreadStatic]
    private static bool t_forwarding;

    public ILogger CreateLogger(string categoryName) => categoryName == "rpc" ? NullLogger.Instance : new Logger(clients);

    public void Dispose()
    {
    }

    private sealed class Logger(ClientConnections clients) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || t_forwarding)
            {
                return;
            }

            t_forwarding = true;
            try
            {
                var message = formatter(state, exception) + (exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})");
                clients.Broadcast(Notifications.LogMessage, new LogMessageParams { Type = logLevel >= LogLevel.Error ? 1 : 2, Message = message });
            }
            finally
            {
                t_forwarding = false;
            }
        }
    }

    private sealed class NullLogger : ILogger
    {
        public static readonly NullLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
