#!/usr/bin/env node
// `npm test`: builds everything from nothing, runs every suite (.NET, extension unit, ACP front
// door, extension end-to-end in code-server), and ends
// with one line "N passed, N failed" summing them all. Exits non-zero if anything failed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = process.env.AGENT_SIDECAR_TEST_CONFIG ?? 'Release';
const results = join(root, '.test-results');
const totals = { passed: 0, failed: 0, skipped: 0 };
// The names of failed tests, repeated just above the last line: CI often keeps only the tail.
const failures = [];
const started = Date.now();

function log(message) {
  process.stderr.write(`\n== ${message} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd ?? root, stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', env: { ...process.env, ...options.env } });
    let out = '';
    child.stdout?.on('data', (d) => { out += d; process.stdout.write(d); });
    child.on('error', (err) => resolve({ code: 127, out: String(err) }));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

function count(suite, passed, failed, skipped = 0) {
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  process.stderr.write(`   ${suite}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
}

async function dotnetSuites() {
  log(`building the solution (${config})`);
  const build = await run('dotnet', ['build', 'agent-sidecar.sln', '-c', config, '--nologo', '-v', 'minimal']);
  if (build.code !== 0) {
    count('dotnet build', 0, 1);
    return;
  }

  const testsDir = join(root, 'tests');
  const projects = readdirSync(testsDir).filter((d) => d.endsWith('.Tests') && existsSync(join(testsDir, d, `${d}.csproj`)));
  for (const project of projects) {
    const exe = join(testsDir, project, 'bin', config, 'net10.0', project);
    const xml = join(results, `${project}.xml`);
    rmSync(xml, { force: true });
    log(`running ${project}`);
    const { code } = await run(exe, ['-xml', xml, '-noColor']);
    if (!existsSync(xml)) {
      count(project, 0, 1);
      continue;
    }

    const text = readFileSync(xml, 'utf8');
    const attr = (name) => Number((text.match(new RegExp(`<assembly [^>]*\\b${name}="(\\d+)"`)) ?? [])[1] ?? 0);
    const failed = attr('failed') + attr('errors');
    for (const m of text.matchAll(/<test [^>]*\bname="([^"]*)"[^>]*\bresult="Fail"/g)) failures.push(`${project}: ${decodeXml(m[1])}`);
    if (code !== 0 && failed === 0) failures.push(`${project}: exited ${code}`);
    count(project, attr('passed'), failed || (code !== 0 ? 1 : 0), attr('skipped'));
  }
}

function decodeXml(text) {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** TAP `not ok` lines of a node:test or e2e run (subtests are indented; suites repeat their children's failure). */
function tapFailures(suite, out) {
  for (const m of out.matchAll(/^\s*not ok \d+ - (.*)$/gm)) failures.push(`${suite}: ${m[1]}`);
}

/** node_modules is missing, or older than package-lock.json (a pull changed the dependencies). */
function needsInstall(dir) {
  const installed = join(dir, 'node_modules', '.package-lock.json');
  return !existsSync(installed) || statSync(join(dir, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
}

/** A TypeScript suite with its own npm packages: `npm ci` when needed, `npm test`, its TAP totals counted. */
async function npmSuite(suite, dir, what) {
  if (needsInstall(dir)) {
    log(`installing the ${suite} tests' npm packages`);
    const install = await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
    if (install.code !== 0) {
      count(`${suite} npm ci`, 0, 1);
      return;
    }
  }

  log(`running the ${what}`);
  const { code, out } = await run('npm', ['--prefix', dir, 'test', '--silent'], { capture: true });
  const pass = Number((out.match(/^# pass (\d+)/m) ?? [])[1] ?? 0);
  const fail = Number((out.match(/^# fail (\d+)/m) ?? [])[1] ?? 0);
  tapFailures(suite, out);
  count(suite, pass, fail || (code !== 0 ? 1 : 0));
}

// The ACP front door (`agent-sidecar acp`) driven by @agentclientprotocol/sdk's client and by acpx,
// against the real Codex, Claude Code and Auggie offline (tests/acp, its own npm packages).
const acpSuite = () => npmSuite('acp', join(root, 'tests', 'acp'), 'ACP tests (real Codex, Claude Code, Auggie; acpx)');

// The extension in a real VS Code (code-server + Chromium; installs them into ~/.cache/agent-sidecar
// when missing): each check counts as one test. extension/e2e/run.mjs bounds itself to 10 minutes.
async function e2eSuite() {
  log('running the extension end-to-end tests (code-server + Chromium + real Codex)');
  const { code, out } = await run('node', [join(root, 'extension', 'e2e', 'run.mjs')], { capture: true });
  const pass = Number((out.match(/^# pass (\d+)/m) ?? [])[1] ?? 0);
  const fail = Number((out.match(/^# fail (\d+)/m) ?? [])[1] ?? 0);
  tapFailures('extension e2e', out);
  count('extension e2e', pass, fail || (code !== 0 ? 1 : 0));
}

// AGENT_SIDECAR_TEST_SUITES=extension,e2e (a comma list of dotnet, extension, acp, e2e) runs only those.
const only = (process.env.AGENT_SIDECAR_TEST_SUITES ?? 'dotnet,extension,acp,e2e').split(',').map((s) => s.trim());
mkdirSync(results, { recursive: true });
if (only.includes('dotnet')) await dotnetSuites();
if (only.includes('extension')) await npmSuite('extension', join(root, 'extension'), 'extension tests');
if (only.includes('acp')) await acpSuite();
if (only.includes('e2e')) await e2eSuite();
log('done');
if (failures.length > 0) process.stderr.write(`failed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed === 0 ? 0 : 1);
