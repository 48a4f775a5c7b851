// Protocol v1 error codes (docs/protocol.md, "Errors"), checked against tests/testdata/protocol/methods.json.

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
  LimitReached: 1008,
} as const;
