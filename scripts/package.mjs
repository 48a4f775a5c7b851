#!/usr/bin/env node
// `npm run package`: publishes the sidecar for this platform into extension/server/ (framework-
// dependent: the machine's .NET 10 runtime runs it), bundles the extension and packages
// artifacts/agent-sidecar.vsix with @vscode/vsce (installed locally in extension/).
// Prints the .vsix path on stdout as its last line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ext = join(root, 'extension');
const vsix = join(root, 'artifacts', 'agent-sidecar.vsix');

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', process.stderr, 'inherit'], ...options });
  if (r.status !== 0) {
    process.stderr.write(`package: ${command} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error})\n`);
    process.exit(1);
  }
}

const rid = `${{ linux: 'linux', darwin: 'osx' }[process.platform] ?? process.platform}-${{ x64: 'x64', arm64: 'arm64' }[process.arch] ?? process.arch}`;
process.stderr.write(`package: publishing the sidecar (${rid}) into extension/server\n`);
rmSync(join(ext, 'server'), { recursive: true, force: true });
// Builds share two cores with other work: one dotnet build at a time on this machine.
const flock = spawnSync('flock', ['--version']).status === 0 ? ['flock', '/tmp/dotnet-build.lock'] : [];
const publish = ['dotnet', 'publish', 'src/AgentSidecar/AgentSidecar.csproj', '-c', 'Release', '-r', rid, '--self-contained', 'false', '-p:DebugType=none', '--nologo', '-v', 'quiet', '-o', join(ext, 'server')];
run(flock[0] ?? publish[0], [...flock.slice(1), ...(flock.length ? publish : publish.slice(1))]);

const installed = join(ext, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(join(ext, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs) run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ext });
mkdirSync(dirname(vsix), { recursive: true });
rmSync(vsix, { force: true });
run('npm', ['run', '--silent', 'package'], { cwd: ext });
process.stderr.write(`package: wrote ${vsix}\n`);
console.log(vsix);
