#!/usr/bin/env node
// A tiny interactive protocol client for humans: each input line is `method {json params}`.
// Without --socket it starts the sidecar over stdio (scripts/agent-sidecar). Notifications and
// responses are printed as they arrive.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const socketIndex = args.indexOf('--socket');
let input;
let output;
let child;
if (socketIndex >= 0) {
  const socket = createConnection(args[socketIndex + 1]);
  input = socket;
  output = socket;
} else {
  const launcher = join(dirname(fileURLToPath(import.meta.url)), 'agent-sidecar');
  child = spawn(launcher, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  input = child.stdout;
  output = child.stdin;
  child.on('exit', (code) => { console.log(`(sidecar exited with ${code})`); process.exit(code ?? 0); });
}

let nextId = 1;
function send(method, params, notification = false) {
  const message = { jsonrpc: '2.0', method, ...(notification ? {} : { id: nextId++ }), ...(params === undefined ? {} : { params }) };
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  output.write(`Content-Length: ${body.length}\r\n\r\n`);
  output.write(body);
}

let buffer = Buffer.alloc(0);
input.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const length = Number(/Content-Length: *(\d+)/i.exec(buffer.subarray(0, end).toString('ascii'))?.[1]);
    if (buffer.length < end + 4 + length) return;
    const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
    buffer = buffer.subarray(end + 4 + length);
    console.log(JSON.stringify(message));
  }
});

send('initialize', { processId: process.pid, clientInfo: { name: 'rpc.mjs' } });
send('initialized', {}, true);
const rl = createInterface({ input: process.stdin, prompt: '> ' });
rl.prompt();
rl.on('line', (line) => {
  const trimmed = line.trim();
  if (trimmed) {
    const space = trimmed.indexOf(' ');
    const method = space < 0 ? trimmed : trimmed.slice(0, space);
    try {
      const params = space < 0 ? undefined : JSON.parse(trimmed.slice(space + 1));
      send(method, params, method === 'exit' || method === 'initialized');
    } catch (err) {
      console.log(`params are not JSON: ${err.message}`);
    }
  }
  rl.prompt();
});
rl.on('close', () => {
  if (child) {
    send('shutdown');
    send('exit', undefined, true);
  } else {
    process.exit(0);
  }
});
