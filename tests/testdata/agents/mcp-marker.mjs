#!/usr/bin/env node
// A minimal MCP server over stdio for the MCP pass-through tests: on start it writes a marker file
// (argv[2]) with its arguments and the MCP_TOKEN it was given, so a test sees that the agent started
// it with the session's configuration; then it answers initialize and tools/list (no tools).
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

writeFileSync(process.argv[2], JSON.stringify({ args: process.argv.slice(3), token: process.env.MCP_TOKEN ?? null }));
const reply = (id, result) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  let message;
  try { message = JSON.parse(line); } catch { return; }
  if (message.id === undefined) return; // notifications
  if (message.method === 'initialize') reply(message.id, { protocolVersion: message.params?.protocolVersion ?? '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'mcp-marker', version: '1.0.0' } });
  else if (message.method === 'tools/list') reply(message.id, { tools: [] });
  else reply(message.id, {});
});
