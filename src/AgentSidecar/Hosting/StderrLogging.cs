using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// Logs to stderr, one line per message, in the console logger's simple single-line format
/// ("HH:mm:ss.fff info: category[event] message"). Problem: Microsoft.Extensions.Logging.Console
/// (options, configuration binding, DI, a queue thread) cost ~50 ms of a ~250 ms cold start
/// (measured with stage timestamps). Solution: this provider and a LoggerFactory built without DI.
/// </summary>
internal static class StderrLogging
{
    public static ILoggerFactory CreateFactory(LogLevel minLevel) =>
        new LoggerFactory([new Provider(minLevel)], new LoggerFilterOptions { MinLevel = minLevel });

    /// <summary>The same lines as the host's logging provider.</summary>
    public static ILoggerProvider CreateProvider(LogLevel minLevel) => new Provider(minLevel);

    /// <summary>
    /// Does the first line's one-time work without writing one: the local time zone (read from
    /// /etc/localtime, 6–9 ms), the timestamp's formatting code and stderr's writer (4–6 ms).
    /// Problem: the first log line ("serving more clients on …") paid it on the way to the first
    /// answer. Solution: the host calls this in the background while it starts.
    /// </summary>
    public static void WarmUp()
    {
        _ = Timestamp();
        _ = Console.Error;
    }

    private static string Timestamp() => $"{DateTime.Now:HH:mm:ss.fff}";

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    private sealed class Provider(LogLevel minLevel) : ILoggerProvider
    {
        private readonly Lock _gate = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, minLevel, _gate);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(string category, LogLevel minLevel, Lock gate) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"{Timestamp()} {Level(logLevel)}: {category}[{eventId.Id}] {formatter(state, exception)}";
            if (exception is not null)
            {
                line += " " + exception.ToString().Replace(Environment.NewLine, " ", StringComparison.Ordinal);
            }

            lock (gate)
            {
                Console.Error.WriteLine(line);
            }
        }
    }
}
