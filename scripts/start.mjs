#!/usr/bin/env node
// `npm start`: builds the sidecar and the extension, packages artifacts/agent-sidecar.vsix (the
// sidecar inside it), then opens the product:
//  - `code` on PATH: installs the .vsix there and opens the current folder in VS Code;
//  - otherwise: installs code-server (cached in ~/.cache/agent-sidecar), installs the .vsix into a
//    private profile (~/.cache/agent-sidecar/code-server-profile) and serves VS Code at a printed
//    http://127.0.0.1:PORT address until Ctrl-C.
//   npm start [-- FOLDER] [--port N] [--sidecar-only]
// --sidecar-only runs the bare sidecar on its unix socket instead (the old `npm start`).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const folder = resolve(argv.find((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1] === '--port')) ?? process.cwd());
const say = (m) => process.stderr.write(`start: ${m}\n`);

if (flag('--sidecar-only')) {
  say('building the sidecar (Release)...');
  const build = spawnSync('dotnet', ['build', 'src/AgentSidecar/AgentSidecar.csproj', '-c', 'Release', '--nologo', '-v', 'quiet'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  say('starting agent-sidecar; connect with: node scripts/rpc.mjs --socket <the path logged below>');
  const child = spawn(join(root, 'scripts', 'agent-sidecar'), ['--no-stdio'], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill('SIGTERM'));
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  say('building the sidecar and the extension, packaging the .vsix...');
  const pkg = spawnSync('node', [join(root, 'scripts', 'package.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (pkg.status !== 0) process.exit(pkg.status ?? 1);
  const vsix = pkg.stdout.trim().split('\n').at(-1);
  say(`packaged ${vsix}`);

  const code = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
  if (code) {
    const install = spawnSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
    if (install.status !== 0) process.exit(install.status ?? 1);
    spawnSync('code', [folder], { stdio: 'inherit' });
    say(`opened ${folder} in VS Code; the Agent Sidecar view is in the activity bar`);
  } else {
    await serveCodeServer(vsix);
  }
}

async function serveCodeServer(vsix) {
  const cache = process.env.AGENT_SIDECAR_CACHE ?? join(homedir(), '.cache', 'agent-sidecar');
  const inst = spawnSync('bash', [join(root, 'scripts', 'install-code-server.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const bin = (inst.stdout.match(/^CODE_SERVER_BIN=(.*)$/m) ?? [])[1];
  if (inst.status !== 0 || !bin) process.exit(inst.status || 1);
  const profile = join(cache, 'code-server-profile');
  const userDir = join(profile, 'user');
  mkdirSync(join(userDir, 'User'), { recursive: true });
  const settings = join(userDir, 'User', 'settings.json');
  if (!existsSync(settings)) writeFileSync(settings, JSON.stringify({ 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off' }, null, 2));
  const env = { ...process.env, XDG_CONFIG_HOME: join(profile, 'xdg-config'), XDG_DATA_HOME: join(profile, 'xdg-data') };
  const common = ['--user-data-dir', userDir, '--extensions-dir', join(profile, 'extensions')];
  const install = spawnSync(bin, [...common, '--install-extension', vsix, '--force'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (install.status !== 0) process.exit(install.status ?? 1);
  const port = option('--port') ?? '0';
  // Its own process group, so that Ctrl-C also stops the extension host and the sidecar it started.
  const server = spawn(bin, [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', folder], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = false;
  const onData = (d) => {
    const m = String(d).match(/HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m && !printed) {
      printed = true;
      process.stdout.write(`\nAgent Sidecar in VS Code (code-server): ${m[1]}/?folder=${encodeURIComponent(folder)}\nCtrl-C stops it.\n\n`);
    }
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  const stop = () => {
    try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ }
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);
  server.on('exit', (c) => process.exit(c ?? 0));
}
