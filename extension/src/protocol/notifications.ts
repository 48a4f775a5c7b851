// Protocol v1 notifications (docs/protocol.md): name, params and the vscode-jsonrpc NotificationType
// of each, so handlers get their params typed. Like the requests, the names are checked against
// tests/testdata/protocol/methods.json.
import { NotificationType, NotificationType0 } from 'vscode-jsonrpc';
import type { Session } from './types';

// Client → server.

export namespace Initialized {
  export const method = 'initialized';
  export type Params = Record<string, never>;
  export const type = new NotificationType<Params>(method);
}

/** Sent without params, as LSP does. */
export namespace Exit {
  export const method = 'exit';
  export const type = new NotificationType0(method);
}

/** vscode-jsonrpc sends it for a cancelled token; listed for the contract. */
export namespace CancelRequest {
  export const method = '$/cancelRequest';
  export interface Params { id: number | string }
  export const type = new NotificationType<Params>(method);
}

// Server → client.

export namespace SessionEventNotification {
  export const method = 'session/event';
  /** `event` is unchecked here: read it with parseSessionEvent (events.ts). */
  export interface Params { attachId: string; event: unknown }
  export const type = new NotificationType<Params>(method);
}

/** To every client after any status or worker change. */
export namespace SessionChanged {
  export const method = 'session/changed';
  export interface Params { session: Session }
  export const type = new NotificationType<Params>(method);
}

/** To every client after a /clear transition. */
export namespace SessionTransitioned {
  export const method = 'session/transitioned';
  export interface Params { previous: Session; current: Session }
  export const type = new NotificationType<Params>(method);
}

/** `overflow` and `error`: attach again from the last event seen; `deleted`: the attachment is over. */
export namespace SessionDetached {
  export const method = 'session/detached';
  export interface Params { attachId: string; reason: string; lastSeq: number; sessionId?: string }
  export const type = new NotificationType<Params>(method);
}

/** The sidecar's warnings and errors; `type` as LSP's MessageType: 1 error, 2 warning, 3 info, 4 log. */
export namespace LogMessage {
  export const method = 'window/logMessage';
  export interface Params { type: number; message: string }
  export const type = new NotificationType<Params>(method);
}

export const clientNotifications = [Initialized, Exit, CancelRequest] as const;
export const serverNotifications = [SessionEventNotification, SessionChanged, SessionTransitioned, SessionDetached, LogMessage] as const;
