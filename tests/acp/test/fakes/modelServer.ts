// What the fake model servers share: a server on 127.0.0.1 that reads JSON bodies, and replies
// written piece by piece (`delayMs` apart) so an agent streams them, stopping if the agent hangs up.
import http from 'node:http';

/** A model's answer: text in `pieces` parts `delayMs` apart, or a tool call. */
export type Reply = string | { text: string; pieces?: number; delayMs?: number } | { tool: { name: string; input: Record<string, unknown> } };

export function textOf(reply: Exclude<Reply, { tool: unknown }>) {
  return typeof reply === 'string' ? { text: reply, pieces: 1, delayMs: 0 } : { pieces: 1, delayMs: 0, ...reply };
}

/** Writes `text` in `pieces` parts through `write`, `delayMs` apart; false if the client went away. */
export async function streamPieces(res: http.ServerResponse, text: string, pieces: number, delayMs: number, write: (piece: string) => void): Promise<boolean> {
  const size = Math.ceil(text.length / pieces) || 1;
  for (let i = 0; i < text.length; i += size) {
    if (res.destroyed) return false;
    write(text.slice(i, i + size));
    if (delayMs > 0 && i + size < text.length) await new Promise((r) => setTimeout(r, delayMs));
  }
  return !res.destroyed;
}

export async function listen(handle: (req: http.IncomingMessage, body: any, res: http.ServerResponse) => void | Promise<void>) {
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      let body: any = {};
      try { body = text ? JSON.parse(text) : {}; } catch { /* an empty body */ }
      void Promise.resolve(handle(req, body, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

export function json(res: http.ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
