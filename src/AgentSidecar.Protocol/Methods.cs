namespace AgentSidecar.Protocol;

/// <summary>Method and notification names of protocol v1 (see docs/protocol.md). A contract: never rename.</summary>
public static class Methods
{
    public const string Initialize = "initialize";
    public const string Initialized = "initialized";
    public const string Shutdown = "shutdown";
    public const string Exit = "exit";
    public const string CancelRequest = "$/cancelRequest";
    public const string HandOver = "$/handOver";

    public const string ProviderList = "provider/list";

    public const string SessionStart = "session/start";
    public const string SessionList = "session/list";
    public const string SessionGet = "session/get";
    public const string SessionSuspend = "session/suspend";
    public const string SessionResume = "session/resume";
    public const string SessionEnd = "session/end";
    public const string SessionDelete = "session/delete";
    public const string SessionReset = "session/reset";
    public const string SessionCleanup = "session/cleanup";
    public const string SessionClear = "session/clear";
    public const string SessionImport = "session/import";
    public const string SessionSetTaskId = "session/setTaskId";
    public const string SessionAttach = "session/attach";
    public const string SessionDetach = "session/detach";
    public const string SessionEvents = "session/events";

    public const string WorkerStart = "worker/start";
    public const string WorkerList = "worker/list";
    public const string WorkerStop = "worker/stop";
    public const string WorkerInput = "worker/input";
    public const string WorkerResize = "worker/resize";
    public const string WorkerScreen = "worker/screen";

    public const string ChatSend = "chat/send";
    public const string ChatCancel = "chat/cancel";
    public const string ChatHistory = "chat/history";
    public const string ChatApprove = "chat/approve";

    public const string MetricsStatus = "metrics/status";
    public const string MetricsFlush = "metrics/flush";
}

/// <summary>Server → client notifications.</summary>
public static class Notifications
{
    public const string SessionEvent = "session/event";
    public const string SessionChanged = "session/changed";
    public const string SessionTransitioned = "session/transitioned";
    public const string SessionDetached = "session/detached";
    public const string LogMessage = "window/logMessage";
}
