#!/usr/bin/env node
// End-to-end tests of the extension in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) driven
// by playwright-core in Debian's Chromium (../../../shared/docs/vscode-e2e.md). The extension is the
// packaged .vsix (with the sidecar inside it); Codex is the real CLI against a fake model server on
// 127.0.0.1. Screenshots of every step go to .test-results/e2e/. Prints "ok - …"/"not ok - …" per
// check and "# pass N" / "# fail N" at the end. Exit code 0 only if every check passed.
//
//   node extension/e2e/run.mjs [--vsix PATH] [--keep]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { codexConfig, loopbackOnly, modelCatalog, startFakeCodexServer } from './fakeCodexServer.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const results = join(root, '.test-results', 'e2e');
const keep = process.argv.includes('--keep');
const vsixArg = process.argv.includes('--vsix') ? process.argv[process.argv.indexOf('--vsix') + 1] : undefined;
/** The whole run is bounded: a hung step fails the run instead of hanging `npm test`. */
const runTimeoutMs = 10 * 60_000;
const started = Date.now();
const log = (m) => process.stderr.write(`e2e [${((Date.now() - started) / 1000).toFixed(1)} s] ${m}\n`);
const checks = [];
const cleanups = [];

const watchdog = setTimeout(() => {
  log(`the run exceeded ${runTimeoutMs / 1000} s; stopping`);
  void finish(1);
}, runTimeoutMs);

function sh(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error})`);
  return r.stdout;
}

function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  log('installing Debian chromium (apt-get)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env }).status !== 0) {
    sh('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
    sh('apt-get', ['install', '-y', '-qq', 'chromium'], { env, stdio: 'inherit' });
  }
  return '/usr/bin/chromium';
}

const kv = (out, key) => (out.match(new RegExp(`^${key}=(.*)$`, 'm')) ?? [])[1];

async function main() {
  mkdirSync(results, { recursive: true });
  const chromiumPath = ensureChromium();
  const codeServer = kv(sh('bash', [join(root, 'scripts', 'install-code-server.sh')]), 'CODE_SERVER_BIN');
  const codexBin = kv(sh('bash', [join(root, 'scripts', 'install-agents.sh')]), 'CODEX_BIN');
  const vsix = vsixArg ?? sh('node', [join(root, 'scripts', 'package.mjs')]).trim().split('\n').at(-1);
  log(`code-server ${codeServer}\ncodex ${codexBin}\nvsix ${vsix}`);

  // Short paths under /tmp for the sidecar (its unix socket) and code-server; CODEX_HOME must not be under /tmp.
  const run = mkdtempSync('/tmp/as-e2e-');
  cleanups.push(() => keep || rmSync(run, { recursive: true, force: true }));
  const ws = join(run, 'ws');
  const dataDir = join(run, 'd');
  const cs = join(run, 'cs');
  const codexHome = join(results, `codex-home-${process.pid}`);
  cleanups.push(() => keep || rmSync(codexHome, { recursive: true, force: true }));
  for (const d of [ws, dataDir, cs, codexHome, join(cs, 'xdg-config'), join(cs, 'xdg-data'), join(cs, 'tmp'), join(cs, 'user', 'User')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(ws, 'README.md'), '# e2e workspace\n');

  const nonce = Math.random().toString(36).slice(2, 10);
  const fake = await startFakeCodexServer((user) => `PONG for *${user}*: **${nonce}-bold**\n\n\`\`\`sh\necho ${nonce}-code\n\`\`\``);
  cleanups.push(() => fake.close());
  writeFileSync(join(codexHome, 'fake-model-catalog.json'), modelCatalog);
  writeFileSync(join(codexHome, 'config.toml'), codexConfig(fake.baseUrl, ws, join(codexHome, 'fake-model-catalog.json')));

  writeFileSync(join(cs, 'user', 'User', 'settings.json'), JSON.stringify({
    'terminal.integrated.gpuAcceleration': 'off',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'telemetry.telemetryLevel': 'off',
    'agentSidecar.dataDir': dataDir,
    // CODEX_HOME only in the profile's env: the sidecar finds the transcripts there too.
    'agentSidecar.providers': { codex: { command: codexBin, env: { CODEX_HOME: codexHome, FAKE_API_KEY: 'dummy', ...loopbackOnly } } },
  }, null, 2));

  const csEnv = { ...process.env, XDG_CONFIG_HOME: join(cs, 'xdg-config'), XDG_DATA_HOME: join(cs, 'xdg-data'), TMPDIR: join(cs, 'tmp'), AGENT_SIDECAR_DATA_DIR: dataDir };
  const csArgs = ['--user-data-dir', join(cs, 'user'), '--extensions-dir', join(cs, 'ext')];
  log('installing the .vsix into code-server');
  sh(codeServer, [...csArgs, '--install-extension', vsix], { env: csEnv, stdio: ['ignore', 'pipe', 'pipe'] });

  log('starting code-server');
  const server = spawn(codeServer, [...csArgs, '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', ws], { env: csEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Its own process group: the extension host and the sidecar it spawned go with it.
  cleanups.push(() => { try { process.kill(-server.pid, 'SIGTERM'); } catch { /* gone */ } });
  let csLog = '';
  server.stderr.on('data', (d) => (csLog += d));
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`code-server did not start:\n${csLog}`)), 60_000);
    server.stdout.on('data', (d) => {
      csLog += d;
      const m = csLog.match(/HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) (clearTimeout(t), resolve(Number(m[1])));
    });
    server.on('exit', (code) => reject(new Error(`code-server exited (${code}):\n${csLog}`)));
  });
  log(`code-server on 127.0.0.1:${port}`);

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    env: { ...process.env, HOME: join(run, 'chrome-home') },
  });
  cleanups.unshift(() => browser.close().catch(() => undefined));
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleLog = [];
  page.on('console', (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLog.push(`[pageerror] ${e.message}`));
  cleanups.push(() => writeFileSync(join(results, 'console.log'), consoleLog.join('\n')));
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const ui = new Ui(page);

  await check('1 shell session: start from the palette, run a command in its terminal', 'shell', page, async () => {
    await ui.command('Agent Sidecar: Start Session');
    await ui.pick('Shell');
    await ui.enterInput(''); // task id: none
    const term = page.locator('.editor-instance .xterm-rows').first();
    await term.waitFor({ timeout: 30_000 });
    await waitFor(async () => /[$#>]\s*$/m.test((await term.innerText()).trim()), 20_000, 'the shell prompt');
    await term.click({ force: true });
    await page.keyboard.type('echo shell-$((6*7))-ok');
    await page.keyboard.press('Enter');
    // The typed line shows $((6*7)); only the shell's output has 42.
    await waitFor(async () => (await term.innerText()).includes('shell-42-ok'), 20_000, 'the command output in the terminal');
  });

  let firstSessionId = '';
  await check('2 codex session: send from the chat panel, the fake model answer is rendered as markdown', 'codex-chat', page, async () => {
    await ui.command('Agent Sidecar: Start Session');
    await ui.pick('OpenAI Codex');
    await ui.enterInput(''); // model: the default
    await ui.enterInput('E2E-7'); // task id
    const chat = await ui.chatFrame();
    await waitFor(async () => (await chat.locator('#session').getAttribute('data-status')) === 'active' && (await chat.locator('#session').innerText()).includes('codex'), 60_000, 'the codex session in the chat header');
    firstSessionId = await chat.locator('#session').getAttribute('data-session-id');
    const input = chat.locator('#input');
    await input.click();
    await input.fill(`hello ${nonce}`);
    await input.press('Enter');
    const bold = chat.locator('.message.assistant strong', { hasText: `${nonce}-bold` });
    await bold.waitFor({ timeout: 60_000 });
    await chat.locator('.message.assistant .code-block button.copy').first().waitFor({ timeout: 5_000 });
    const code = await chat.locator('.message.assistant .code-block code').first().innerText();
    if (!code.includes(`echo ${nonce}-code`)) throw new Error(`code block text: ${code}`);
    const user = await chat.locator('.message.user').last().innerText();
    if (!user.includes(`hello ${nonce}`)) throw new Error(`user message: ${user}`);
    if (!fake.turns.some((t) => t.includes(`hello ${nonce}`))) throw new Error(`the fake model never got the message (turns: ${JSON.stringify(fake.turns)})`);
    await waitFor(async () => await chat.locator('#busy').isHidden(), 30_000, 'the busy indicator to go away');
  });

  await check('3 clear: the divider shows and the new session is in the sessions view', 'clear', page, async () => {
    const chat = await ui.chatFrame();
    await chat.locator('#clear').click();
    await chat.locator('.divider').first().waitFor({ timeout: 30_000 });
    await waitFor(async () => {
      const id = await chat.locator('#session').getAttribute('data-session-id');
      return id && id !== firstSessionId;
    }, 30_000, 'the chat to follow the new session');
    const newId = await chat.locator('#session').getAttribute('data-session-id');
    // Both sessions of the chain are in the tree: the old one completed, the new one active.
    const rows = page.locator('.monaco-list-row[aria-label*="codex session"]');
    await waitFor(async () => {
      const labels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      return labels.some((l) => l.includes(newId.slice(-8)) && l.includes('active')) && labels.some((l) => l.includes(firstSessionId.slice(-8)) && l.includes('completed'));
    }, 30_000, 'the old (completed) and new (active) codex sessions in the sessions view');
  });

  let codexId = '';
  await check('4 sidecar killed: the extension restarts it, resumes the Codex session, the chat keeps its history and the resumed agent answers with the earlier conversation', 'restart', page, async () => {
    const chat = await ui.chatFrame();
    codexId = await chat.locator('#session').getAttribute('data-session-id');
    // A message in the session after the /clear, so that its Codex conversation has something to continue.
    await sendFromChat(chat, `before ${nonce}`);
    await chat.locator('.message.assistant em', { hasText: `before ${nonce}` }).waitFor({ timeout: 60_000 });
    await waitFor(async () => await chat.locator('#busy').isHidden(), 30_000, 'the busy indicator to go away');
    const before = sidecarPids(dataDir);
    if (before.length !== 1) throw new Error(`expected one sidecar for ${dataDir}, found ${JSON.stringify(before)}`);
    log(`killing the sidecar (pid ${before[0]})`);
    process.kill(before[0], 'SIGKILL');
    await waitFor(async () => {
      const now = sidecarPids(dataDir);
      return now.length === 1 && now[0] !== before[0];
    }, 30_000, 'a new sidecar process');
    // The chat saw the session suspended by the crash, then resumed.
    await chat.locator('.notice', { hasText: 'the sidecar stopped unexpectedly' }).waitFor({ timeout: 30_000 });
    await chat.locator('.notice', { hasText: 'session resumed' }).waitFor({ timeout: 60_000 });
    await waitFor(async () => (await chat.locator('#session').getAttribute('data-status')) === 'active' && (await chat.locator('#session').getAttribute('data-session-id')) === codexId, 30_000, 'the chat header to show the same session active');
    // The sessions view lists it active again (from the new sidecar).
    await page.locator(`.monaco-list-row[aria-label*="codex session ${codexId.slice(-8)} active"]`).first().waitFor({ timeout: 30_000 });
    // The history is all there: before the /clear, the divider, after it.
    await chat.locator('.message.assistant strong', { hasText: `${nonce}-bold` }).first().waitFor({ timeout: 10_000 });
    await chat.locator('.message.user', { hasText: `hello ${nonce}` }).waitFor({ timeout: 10_000 });
    await chat.locator('.message.user', { hasText: `before ${nonce}` }).waitFor({ timeout: 10_000 });
    await chat.locator('.divider').first().waitFor({ timeout: 10_000 });
    // A new message gets the fake model's answer from the resumed Codex, which sent the earlier conversation with it.
    await sendFromChat(chat, `after ${nonce}`);
    await chat.locator('.message.assistant em', { hasText: `after ${nonce}` }).waitFor({ timeout: 60_000 });
    const request = fake.requests.find((users) => users.at(-1) === `after ${nonce}`);
    if (!request) throw new Error(`the fake model never got "after ${nonce}" (requests: ${JSON.stringify(fake.requests)})`);
    if (!request.includes(`before ${nonce}`)) throw new Error(`the resumed Codex did not send the earlier conversation: ${JSON.stringify(request)}`);
    if (request.includes(`hello ${nonce}`)) throw new Error(`the conversation before the /clear came back: ${JSON.stringify(request)}`);
    await waitFor(async () => await chat.locator('#busy').isHidden(), 30_000, 'the busy indicator to go away');
  });

  await check('5 chat in an editor: a fresh chat loads the history from the restarted sidecar', 'chat-editor', page, async () => {
    const before = (await ui.chatFrames()).length;
    await ui.command('Agent Sidecar: Open Chat in Editor');
    let frames = [];
    await waitFor(async () => (frames = await ui.chatFrames()).length > before, 30_000, 'a second chat webview');
    const chats = await Promise.all(frames.map(async (f) => ({ f, n: await f.locator('.message').count() })));
    // Any chat that shows the conversation; the new one loads it with chat/history (nothing retained).
    await waitFor(async () => {
      let full = 0;
      for (const { f } of chats) {
        if ((await f.locator('.message.assistant strong', { hasText: `${nonce}-bold` }).count()) > 0 && (await f.locator('.divider').count()) > 0
          && (await f.locator('.message.user', { hasText: `after ${nonce}` }).count()) > 0) full++;
      }
      return full === frames.length;
    }, 30_000, 'every chat (side bar and editor) to show the history and the divider');
  });

  await check('6 the shell terminal kept its output, says the sidecar restarted, and its shell runs again after the resume', 'shell-after-restart', page, async () => {
    await page.locator('.tabs-container .tab', { hasText: 'shell' }).first().click();
    let term;
    await waitFor(async () => {
      for (const rows of await page.locator('.editor-instance .xterm-rows').all()) {
        const text = await rows.innerText();
        if (text.includes('shell-42-ok') && text.includes('the sidecar restarted')) return (term = rows), true;
      }
      return false;
    }, 30_000, 'the shell terminal to show both its old output and the note');
    // The resumed shell printed a new prompt after the note; a command runs in the same terminal.
    await waitFor(async () => /sidecar restarted[\s\S]*[$#>]\s*$/.test((await term.innerText()).trim()), 30_000, 'a new prompt after the note');
    await term.click({ force: true });
    await page.keyboard.type('echo again-$((7*6))-ok');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await term.innerText()).includes('again-42-ok'), 20_000, 'the new command output in the same terminal');
    const text = await term.innerText();
    if (!text.includes('shell-42-ok')) throw new Error('the old output is gone');
  });

  await check('7 Suspend and Resume from the palette: the chat, the sessions view and the agent terminal follow; the resumed agent answers', 'suspend-resume', page, async () => {
    await ui.command('Agent Sidecar: Suspend');
    await ui.pick('codex'); // two live sessions: the shell's and Codex's
    const chat = await ui.chatFrame();
    await waitFor(async () => (await chat.locator('#session').getAttribute('data-status')) === 'suspended', 30_000, 'the chat header to say suspended');
    await chat.locator('#resume').waitFor({ state: 'visible', timeout: 5_000 });
    await page.locator(`.monaco-list-row[aria-label*="codex session ${codexId.slice(-8)} suspended"]`).first().waitFor({ timeout: 30_000 });
    await page.locator('.tabs-container .tab', { hasText: 'codex' }).first().click();
    await waitFor(async () => {
      for (const rows of await page.locator('.editor-instance .xterm-rows').all()) if ((await rows.innerText()).includes('the session was suspended')) return true;
      return false;
    }, 30_000, 'the agent terminal to say the session was suspended');
    await page.screenshot({ path: join(results, 'suspended.png') });
    await ui.command('Agent Sidecar: Resume'); // one suspended session: no pick
    await waitFor(async () => (await chat.locator('#session').getAttribute('data-status')) === 'active', 60_000, 'the chat header to say active');
    await page.locator(`.monaco-list-row[aria-label*="codex session ${codexId.slice(-8)} active"]`).first().waitFor({ timeout: 30_000 });
    await sendFromChat(chat, `third ${nonce}`);
    await chat.locator('.message.assistant em', { hasText: `third ${nonce}` }).waitFor({ timeout: 60_000 });
    const request = fake.requests.find((users) => users.at(-1) === `third ${nonce}`);
    if (!request?.includes(`before ${nonce}`) || !request.includes(`after ${nonce}`)) throw new Error(`the resumed Codex lost the conversation: ${JSON.stringify(request)}`);
  });
}

async function sendFromChat(chat, text) {
  const input = chat.locator('#input');
  await waitFor(async () => !(await input.isDisabled()), 30_000, 'the chat input to be enabled');
  await input.click();
  await input.fill(text);
  await input.press('Enter');
}

class Ui {
  constructor(page) { this.page = page; }

  async command(title) {
    for (let attempt = 0; attempt < 10; attempt++) {
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('Control+Shift+P');
      const input = this.page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 10_000 });
      await input.fill(`>${title}`);
      const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      try {
        await row.waitFor({ timeout: 3_000 });
        await row.click();
        return;
      } catch {
        // Extension commands appear a few seconds after the workbench paints; an open palette does not refresh.
      }
    }
    throw new Error(`command not found in the palette: ${title}`);
  }

  async pick(label) {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  }

  async enterInput(text) {
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 15_000 });
    await this.page.waitForTimeout(200);
    await input.fill(text);
    await input.press('Enter');
  }

  /** Every chat webview's content frame. */
  async chatFrames() {
    const found = [];
    for (const f of this.page.frames()) {
      if (f.isDetached()) continue;
      if ((await f.locator('#messages').count().catch(() => 0)) > 0 && (await f.locator('#input').count().catch(() => 0)) > 0) found.push(f);
    }
    return found;
  }

  /** The chat webview's content frame (VS Code nests it: iframe.webview → #active-frame). */
  async chatFrame() {
    let found;
    await waitFor(async () => {
      for (const f of this.page.frames()) {
        if (f.isDetached()) continue;
        if ((await f.locator('#messages').count().catch(() => 0)) > 0 && (await f.locator('#input').count().catch(() => 0)) > 0) {
          found = f;
          return true;
        }
      }
      return false;
    }, 30_000, 'the chat webview');
    return found;
  }
}

function sidecarPids(dataDir) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().match(/^(\d+)\s+(.*)$/)).filter((m) => m && m[2].includes('agent-sidecar') && m[2].includes(`--data-dir ${dataDir}`) && !m[2].includes('bash')).map((m) => Number(m[1]));
}

async function waitFor(condition, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      if (await condition()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

async function check(name, shot, page, body) {
  const t0 = Date.now();
  try {
    await body();
    checks.push({ name, ok: true });
    process.stdout.write(`ok - ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  } catch (err) {
    checks.push({ name, ok: false });
    process.stdout.write(`not ok - ${name}\n  ${String(err.message).split('\n').join('\n  ')}\n`);
  }
  await page.screenshot({ path: join(results, `${shot}.png`) }).catch((e) => log(`screenshot failed: ${e.message}`));
}

let finishing = false;
async function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(watchdog);
  for (const c of cleanups) {
    try { await c(); } catch (e) { log(`cleanup: ${e.message}`); }
  }
  const passed = checks.filter((c) => c.ok).length;
  const failed = checks.length - passed + (code !== 0 && checks.every((c) => c.ok) ? 1 : 0);
  process.stdout.write(`# pass ${passed}\n# fail ${failed}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in ${results}`);
  process.exit(failed === 0 ? 0 : 1);
}

main().then(() => finish(0), (err) => {
  process.stdout.write(`not ok - e2e setup\n  ${String(err.stack ?? err).split('\n').join('\n  ')}\n`);
  return finish(1);
});
