// Protocol v1 names, mirroring docs/protocol.md. A contract: tests/testdata/protocol/methods.json
// is checked against these constants here and against the sidecar's in the C# tests.

export const Methods = {
  initialize: 'initialize',
  shutdown: 'shutdown',
  providerList: 'provider/list',
  sessionStart: 'session/start',
  sessionList: 'session/list',
  sessionGet: 'session/get',
  sessionSuspend: 'session/suspend',
  sessionResume: 'session/resume',
  sessionEnd: 'session/end',
  sessionDelete: 'session/delete',
  sessionReset: 'session/reset',
  sessionCleanup: 'session/cleanup',
  sessionClear: 'session/clear',
  sessionImport: 'session/import',
  sessionAttach: 'session/attach',
  sessionDetach: 'session/detach',
  sessionEvents: 'session/events',
  workerStart: 'worker/start',
  workerList: 'worker/list',
  workerStop: 'worker/stop',
  workerInput: 'worker/input',
  workerResize: 'worker/resize',
  workerScreen: 'worker/screen',
  chatSend: 'chat/send',
  chatCancel: 'chat/cancel',
  chatHistory: 'chat/history',
  metricsStatus: 'metrics/status',
  metricsFlush: 'metrics/flush',
} as const;

export const ClientNotifications = {
  initialized: 'initialized',
  exit: 'exit',
  cancelRequest: '$/cancelRequest',
} as const;

export const ServerNotifications = {
  sessionEvent: 'session/event',
  sessionChanged: 'session/changed',
  sessionTransitioned: 'session/transitioned',
  sessionDetached: 'session/detached',
  logMessage: 'window/logMessage',
} as const;

export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ServerNotInitialized: -32002,
  RequestCancelled: -32800,
  SessionNotFound: 1001,
  WorkerNotFound: 1002,
  SessionBusy: 1003,
  InvalidState: 1004,
  ProviderUnavailable: 1005,
  InvalidWorkspace: 1006,
  PayloadTooLarge: 1007,
} as const;
