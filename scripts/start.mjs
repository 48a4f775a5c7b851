#!/usr/bin/env node
// `npm start`: builds the sidecar and runs it, serving protocol v1 on its unix socket until
// Ctrl-C. (When the VS Code extension lands, this builds and opens it instead.)
import { spawn, spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.stderr.write('building the sidecar (Release)...\n');
const build = spawnSync('dotnet', ['build', 'src/AgentSidecar/AgentSidecar.csproj', '-c', 'Release', '--nologo', '-v', 'quiet'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
process.stderr.write('starting agent-sidecar; connect with: node scripts/rpc.mjs --socket <the path logged below>\n');
const child = spawn(join(root, 'scripts', 'agent-sidecar'), ['--no-stdio', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));
