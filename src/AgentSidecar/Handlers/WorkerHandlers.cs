using AgentSidecar.Core.Sessions;
using AgentSidecar.Protocol;
using StreamJsonRpc;

namespace AgentSidecar.Handlers;

internal sealed class WorkerHandlers(SessionManager sessions)
{
    private SessionManager Sessions => sessions;

    [JsonRpcMethod(Methods.WorkerStart)]
    public async Task<Worker> StartAsync(WorkerStartParams p, CancellationToken ct) =>
        WireMapper.ToWire(await Sessions.StartWorkerAsync(new StartWorkerRequest
        {
            SessionId = p.SessionId!,
            Name = p.Name,
            Command = p.Command,
            Args = p.Args,
            Cwd = p.Cwd,
            Cols = p.Cols,
            Rows = p.Rows,
            Env = p.Env,
        }).ConfigureAwait(false));

    [JsonRpcMethod(Methods.WorkerList)]
    public Task<WorkerListResult> ListAsync(SessionIdParams p, CancellationToken ct) =>
        Task.FromResult(new WorkerListResult { Workers = Sessions.ListWorkers(p.SessionId!).Select(WireMapper.ToWire).ToList() });

    [JsonRpcMethod(Methods.WorkerStop)]
    public async Task<Worker> StopAsync(WorkerIdParams p, CancellationToken ct) =>
        WireMapper.ToWire(await Sessions.StopWorkerAsync(p.WorkerId!).ConfigureAwait(false));

    [JsonRpcMethod(Methods.WorkerInput)]
    public async Task<EmptyResult> InputAsync(WorkerInputParams p, CancellationToken ct)
    {
        await Sessions.InputAsync(p.WorkerId!, p.Data!).ConfigureAwait(false);
        return EmptyResult.Instance;
    }

    [JsonRpcMethod(Methods.WorkerScreen)]
    public Task<WorkerScreenResult> ScreenAsync(WorkerIdParams p, CancellationToken ct)
    {
        var s = Sessions.Screen(p.WorkerId!);
        return Task.FromResult(new WorkerScreenResult
        {
            Cols = s.Cols,
            Rows = s.Rows,
            Lines = s.Lines,
            Cursor = new CursorPosition { Row = s.CursorRow, Col = s.CursorCol },
            AlternateScreen = s.AlternateScreen,
            Ansi = s.Ansi,
            Seq = s.Seq,
        });
    }

    [JsonRpcMethod(Methods.WorkerResize)]
    public async Task<EmptyResult> ResizeAsync(WorkerResizeParams p, CancellationToken ct)
    {
        await Sessions.ResizeAsync(p.WorkerId!, p.Cols!.Value, p.Rows!.Value).ConfigureAwait(false);
        return EmptyResult.Instance;
    }
}
