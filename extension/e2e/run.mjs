#!/usr/bin/env node
// End-to-end tests of the extension in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) driven
// by playwright-core in Debian's Chromium (../../../shared/docs/vscode-e2e.md). The extension is the
// packaged .vsix (with the sidecar inside it); Codex is the real CLI against a fake model server on
// 127.0.0.1. Screenshots of every step go to .test-results/e2e/. Prints "ok - …"/"not ok - …" per
// check and "# pass N" / "# fail N" at the end. Exit code 0 only if every check passed.
//
//   node extension/e2e/run.mjs [--vsix PATH] [--keep] [--only 8,9,10]
//
// --only runs the setup and the numbered checks given (8, 9 and 10 need no earlier check, but go together).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Ui, codexPids, isAlive, reopenedAfterActivation, sendFromChat, sidecarPids, waitFor } from './support.mjs';
import { codexConfig, loopbackOnly, modelCatalog, startFakeCodexServer } from './fakeCodexServer.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const results = join(root, '.test-results', 'e2e');
const keep = process.argv.includes('--keep');
const vsixArg = process.argv.includes('--vsix') ? process.argv[process.argv.indexOf('--vsix') + 1] : undefined;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : undefined;
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
  // Outside the workspace (a sibling of it): only an approved, escalated command may write there.
  const outside = join(run, 'outside');
  mkdirSync(outside, { recursive: true });
  const outsideFile = join(outside, `approved-${nonce}.txt`);
  const escalatedCmd = `echo approved > ${outsideFile}`;
  const fake = await startFakeCodexServer((user, step) => {
    // `tools …`: the model runs a command, then edits README.md, then answers (check 11).
    if (user.startsWith('tools ')) {
      if (step === 0) return { functionCall: { name: 'exec_command', arguments: { cmd: `echo tool-${nonce}`, workdir: ws } } };
      if (step === 1) return { customToolCall: { name: 'apply_patch', input: `*** Begin Patch\n*** Update File: README.md\n@@\n-# e2e workspace\n+# e2e workspace, edited by the agent ${nonce}\n*** End Patch\n` } };
      return `Tools done: ${nonce}`;
    }
    // `escalate …`: a command that writes outside the workspace and asks for escalation (Codex asks the user first, check 12).
    if (user.startsWith('escalate ')) {
      if (step === 0) return { functionCall: { name: 'exec_command', arguments: { cmd: escalatedCmd, sandbox_permissions: 'require_escalated', justification: 'Write a file outside the workspace?', login: false } } };
      return `Escalation done: ${nonce}`;
    }
    // `slow …`: an answer that takes seconds, still streaming when the window reloads (check 13).
    if (user.startsWith('slow ')) return { slow: `Slow answer ${nonce}: the turn went on`, ms: 6000 };
    return `PONG for *${user}*: **${nonce}-bold**\n\n\`\`\`sh\necho ${nonce}-code\n\`\`\``;
  });
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
    'agentSidecar.providers': {
      codex: { command: codexBin, env: { CODEX_HOME: codexHome, FAKE_API_KEY: 'dummy', ...loopbackOnly } },
      // The repository's scripted agent, which asks before it runs a command the way Codex does.
      fake: fakeAgentProfile(),
    },
  }, null, 2));

  const csEnv = { ...process.env, XDG_CONFIG_HOME: join(cs, 'xdg-config'), XDG_DATA_HOME: join(cs, 'xdg-data'), TMPDIR: join(cs, 'tmp'), AGENT_SIDECAR_DATA_DIR: dataDir };
  const csArgs = ['--user-data-dir', join(cs, 'user'), '--extensions-dir', join(cs, 'ext')];
  log('installing the .vsix into code-server');
  sh(codeServer, [...csArgs, '--install-extension', vsix], { env: csEnv, stdio: ['ignore', 'pipe', 'pipe'] });

  log('starting code-server');
  const server = spawn(codeServer, [...csArgs, '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', ws], { env: csEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Its own process group: the extension host goes with it. The sidecar has a group of its own
  // (it outlives a window), so it is stopped first, by name.
  cleanups.push(() => { try { process.kill(-server.pid, 'SIGTERM'); } catch { /* gone */ } });
  cleanups.unshift(() => { for (const pid of sidecarPids(dataDir)) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } });
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
  // The extension has activated once its status bar item shows: before that its commands are not
  // in the palette (on a loaded machine that took longer than the palette's retries once).
  await page.locator('.part.statusbar', { hasText: 'Agent Sidecar' }).first().waitFor({ timeout: 120_000 });

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
    await sendFromChat(chat, `hello ${nonce}`);
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

  // Approvals, tool calls and edits in the chat (the scripted fake agent asks before it runs a command).
  let fakeId = '';
  await check('8 approval: the fake agent asks before it runs a command; the chat shows the card, "Yes, proceed" answers it, the command runs and the answer follows', 'approval-resolved', page, async () => {
    await ui.command('Agent Sidecar: Start Session');
    await ui.pick('Fake agent');
    await ui.enterInput('E2E-ASK', 'Task id');
    const chat = await ui.chatFrame();
    await waitFor(async () => (await chat.locator('#session').getAttribute('data-status')) === 'active' && (await chat.locator('#session').innerText()).includes('fake'), 60_000, 'the fake session in the chat header');
    fakeId = await chat.locator('#session').getAttribute('data-session-id');
    const marker = join(ws, 'approved.txt');
    await sendFromChat(chat, `ask touch ${marker}`);
    const card = chat.locator('.card.approval.pending', { hasText: 'Run a command?' });
    await card.waitFor({ timeout: 30_000 });
    const detail = await card.locator('.detail').innerText();
    if (detail !== `touch ${marker}`) throw new Error(`approval detail: ${detail}`);
    await waitFor(async () => (await chat.locator('#busy-text').innerText()) === 'Waiting for your approval', 10_000, 'the busy bar to say it waits for an approval');
    if (existsSync(marker)) throw new Error('the command ran before it was approved');
    // The chat is in front: no notification asks the same.
    await page.waitForTimeout(1_000);
    if (await page.locator('.notifications-toasts .notification-toast', { hasText: 'Run a command?' }).count()) throw new Error('a notification asked while the chat showed the approval');
    await shoot(page, chat, 'approval-pending');
    await card.locator('button', { hasText: 'Yes, proceed' }).click();
    await chat.locator('.card.approval.allowed .outcome', { hasText: 'Allowed by you in chat: Yes, proceed' }).waitFor({ timeout: 30_000 });
    await chat.locator('.message.assistant', { hasText: `done: touch ${marker}` }).waitFor({ timeout: 30_000 });
    await waitFor(async () => await chat.locator('#busy').isHidden(), 30_000, 'the busy indicator to go away');
    if (!existsSync(marker)) throw new Error('the approved command did not run');
    // The card stays in its turn, before the answer.
    const kinds = await chat.locator('#messages > div').evaluateAll((els) => els.map((e) => e.className));
    const at = kinds.findIndex((k) => k.startsWith('card approval'));
    if (!(kinds[at - 1] ?? '').startsWith('message user') || !(kinds[at + 1] ?? '').startsWith('message assistant')) throw new Error(`order in the chat: ${JSON.stringify(kinds)}`);
    await shoot(page, chat, 'approval-resolved-chat');
  });

  await check('9 approval with the chat hidden: a notification asks, its "Yes, proceed" answers; a fresh chat rebuilds both approvals from the event log', 'approval-notification', page, async () => {
    const marker = join(ws, 'notified.txt');
    const chat = await ui.chatFrame();
    await sendFromChat(chat, `ask touch ${marker}`);
    await chat.locator('.card.approval.pending', { hasText: `touch ${marker}` }).waitFor({ timeout: 30_000 });
    // The user looks elsewhere while the approval waits (no chat shows it: the editor chats of
    // earlier checks are closed, the side bar shows the Explorer): a notification asks the same.
    for (const tab of await page.locator('.tabs-container .tab', { hasText: 'Agent Chat' }).all()) await tab.locator('.tab-actions .action-label').click({ force: true });
    await ui.command('View: Show Explorer');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Run a command?' });
    await toast.locator('.monaco-button', { hasText: 'Yes, proceed' }).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500); // the toast fades in
    await page.screenshot({ path: join(results, 'approval-notification-toast.png') });
    if (existsSync(marker)) throw new Error('the command ran before it was approved');
    await toast.locator('.monaco-button', { hasText: 'Yes, proceed' }).click();
    await waitFor(async () => existsSync(marker), 30_000, 'the command approved in the notification to run');
    await ui.command('Agent Sidecar: Show Chat');
    await chat.locator('.card.approval.allowed', { hasText: `touch ${marker}` }).waitFor({ timeout: 30_000 });
    await chat.locator('.message.assistant', { hasText: `done: touch ${marker}` }).waitFor({ timeout: 30_000 });
    // A new chat loads the session from session/events: both approvals, resolved, each once.
    const before = (await ui.chatFrames()).length;
    await ui.command('Agent Sidecar: Open Chat in Editor');
    let frames = [];
    await waitFor(async () => (frames = await ui.chatFrames()).length > before, 30_000, 'a new chat webview');
    await waitFor(async () => {
      for (const f of frames) {
        const outcomes = await f.locator('.card.approval .outcome').allInnerTexts();
        if (outcomes.length !== 2 || !outcomes.every((o) => o === 'Allowed by you in chat: Yes, proceed')) return false;
      }
      return true;
    }, 30_000, 'every chat to show the two approvals, allowed');
  });

  await check('10 tool calls and an edit: cards with status, command, output and a coloured diff; Open diff opens VS Code\'s diff editor', 'tool-cards', page, async () => {
    // The widest chat (the editor one check 9 opened): the cards read best there.
    let chat;
    let widest = 0;
    for (const f of await ui.chatFrames()) {
      const width = await f.evaluate(() => window.innerWidth);
      if (width > widest) (widest = width, chat = f);
    }
    const sessionId = await chat.locator('#session').getAttribute('data-session-id');
    // The fake agent writes no tool calls (they come from Codex's and Claude's transcripts): the
    // events are handed to the chat the way the extension host does, with the repository's examples.
    const turnId = 'e2e-tools';
    const examples = join(root, 'tests', 'testdata', 'protocol', 'events');
    const example = (name, data = {}) => {
      const e = JSON.parse(readFileSync(join(examples, `${name}.json`), 'utf8'));
      return { ...e, sessionId, data: { ...e.data, turnId, ...data } };
    };
    const edit = example('chat.tool.edit', {
      title: 'Edit src/greet.js, src/hello.txt',
      files: [
        { path: join(ws, 'src', 'greet.js'), oldText: "export const greet = () => 'hi';\n", newText: "export const greet = (name) => `hi ${name}`;\n", diff: "--- a/src/greet.js\n+++ b/src/greet.js\n@@ -1 +1 @@\n-export const greet = () => 'hi';\n+export const greet = (name) => `hi ${name}`;\n" },
        { path: join(ws, 'src', 'hello.txt'), newText: 'hello\n', diff: '--- /dev/null\n+++ b/src/hello.txt\n@@ -0,0 +1 @@\n+hello\n' },
      ],
      locations: undefined,
    });
    const long = Array.from({ length: 30 }, (_, i) => `ok ${i + 1} - test ${i + 1}`).join('\n');
    const events = [
      { sessionId, seq: 0, ts: '', channel: 'chat', type: 'user', data: { turnId, text: 'make greet take a name and run the tests', source: 'chat' } },
      example('chat.plan'),
      example('chat.tool.pending', { cwd: ws }),
      example('chat.tool', { cwd: ws, status: 'in_progress', exitCode: undefined, output: undefined }),
      edit,
      example('chat.tool', { cwd: ws, output: `${long}\n# pass 30\n# fail 0\n` }),
      example('chat.tool.truncated'),
      example('chat.plan', { entries: [{ text: 'Find where greet is defined', status: 'completed' }, { text: 'Add the name parameter', status: 'completed' }, { text: 'Run the tests', status: 'in_progress' }] }),
      { sessionId, seq: 0, ts: '', channel: 'chat', type: 'message', data: { turnId, role: 'assistant', text: '`greet` takes a name now; the 30 tests pass.', source: 'transcript' } },
      { sessionId, seq: 0, ts: '', channel: 'chat', type: 'turn', data: { turnId, status: 'completed', durationMs: 1200 } },
    ];
    await chat.evaluate((es) => { for (const event of es) window.postMessage({ type: 'event', event }, '*'); }, events);
    const tool = chat.locator('.card.tool.completed', { hasText: 'npm test' });
    await tool.waitFor({ timeout: 10_000 });
    if ((await chat.locator('.card.tool', { hasText: 'npm test' }).count()) !== 1) throw new Error('the re-sent tool call made a second card');
    if ((await chat.locator('.card.plan').count()) < 1 || !(await chat.locator('.card.plan').last().innerText()).includes('2/3')) throw new Error('the plan was not updated in place');
    if (!(await tool.locator('.output-fold').count())) throw new Error('long output is not folded');
    await chat.locator('.card.tool.failed', { hasText: 'output truncated' }).waitFor({ timeout: 5_000 });
    await tool.scrollIntoViewIfNeeded();
    await shoot(page, chat, 'tool-card');
    const diffCard = chat.locator('.card.tool.edit');
    if ((await diffCard.locator('.line.add').count()) !== 2 || (await diffCard.locator('.line.del').count()) !== 1) throw new Error('the diff lines are not coloured');
    await diffCard.scrollIntoViewIfNeeded();
    await shoot(page, chat, 'diff-card');
    // A DOM click: the pointer cannot reach into a scrolled webview frame reliably.
    await diffCard.locator('.file', { hasText: 'greet.js' }).locator('button', { hasText: 'Open diff' }).dispatchEvent('click');
    const diffEditor = page.locator('.monaco-diff-editor');
    await diffEditor.first().waitFor({ timeout: 20_000 });
    // Monaco draws spaces as no-break spaces.
    await waitFor(async () => (await diffEditor.first().innerText()).replace(/\u00a0/g, ' ').includes('(name) => `hi ${name}`'), 10_000, 'the new text in the diff editor');
    await page.locator('.tabs-container .tab', { hasText: 'greet.js (agent edit)' }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(results, 'diff-editor.png') });
  });

  await check('11 real tool calls: Codex runs a command and applies a patch (the fake model asks for both); the sidecar reads them from its transcript and the chat shows a command card with its output and an edit card for README.md, before the answer', 'codex-tools', page, async () => {
    // The live Codex session of the earlier checks (Start Session offers to continue it), else a new one.
    await ui.command('Agent Sidecar: Start Session');
    await ui.pick('OpenAI Codex');
    await ui.enterInput('', 'Model for'); // the default
    const continued = await ui.pickIfAsked('already running here', 'Continue', 'e.g. JIRA-123'); // a live Codex session: continue it
    await ui.enterInput('E2E-TOOLS', 'Task id');
    if (continued) {
      // Another task id for the continued session: a notification says it was applied, or why not
      // (session/setTaskId); then it goes, so that it covers no chat input.
      await page.locator('.notifications-toasts .notification-toast', { hasText: 'E2E-TOOLS' }).first().waitFor({ timeout: 30_000 });
      await ui.command('Notifications: Clear All Notifications');
    }
    let chat;
    await waitFor(async () => {
      for (const f of await ui.chatFrames()) {
        // A chat editor behind another tab keeps its frame, hidden: only a chat on screen will do.
        if (!(await (await f.frameElement()).isVisible())) continue;
        if ((await f.locator('#session').innerText()).startsWith('codex') && (await f.locator('#session').getAttribute('data-status')) === 'active') return (chat = f), true;
      }
      return false;
    }, 60_000, 'a live codex session in a chat on screen');
    await sendFromChat(chat, `tools ${nonce}`);
    const command = chat.locator('.card.tool', { hasText: `echo tool-${nonce}` });
    await command.waitFor({ timeout: 60_000 });
    const edit = chat.locator('.card.tool.edit', { hasText: 'README.md' });
    await edit.waitFor({ timeout: 60_000 });
    await chat.locator('.message.assistant', { hasText: `Tools done: ${nonce}` }).waitFor({ timeout: 60_000 });
    await waitFor(async () => (await command.getAttribute('class')).includes('completed'), 30_000, 'the command card to complete');
    const output = await command.locator('.output').innerText().catch(() => '');
    if (!output.includes(`tool-${nonce}`)) throw new Error(`command output: ${output}`);
    await edit.locator('button', { hasText: 'Open diff' }).waitFor({ timeout: 30_000 });
    if (!readFileSync(join(ws, 'README.md'), 'utf8').includes(`edited by the agent ${nonce}`)) throw new Error('Codex did not apply the patch');
    const kinds = await chat.locator('#messages > div').evaluateAll((els) => els.map((e) => e.className));
    const user = kinds.findLastIndex((k) => k.startsWith('message user'));
    if (!kinds[user + 1]?.startsWith('card tool') || !kinds.at(-1)?.startsWith('message assistant')) throw new Error(`order in the chat: ${JSON.stringify(kinds.slice(user))}`);
    await shoot(page, chat, 'codex-tools');
  });

  await check('12 real Codex approval: with users\' defaults (on-request, workspace-write) Codex asks before an escalated command; the chat shows the card, "Yes, proceed" in the webview answers it, the command writes outside the workspace, its card completes and the answer follows', 'codex-approval', page, async () => {
    // Codex reads its config when it starts: a new Codex process for this check. Asking for the model by
    // name makes a new session (quick sessions are shared per provider, workspace and model; the earlier
    // checks' session has the default model), so the live one keeps its policy.
    writeFileSync(join(codexHome, 'config.toml'), codexConfig(fake.baseUrl, ws, join(codexHome, 'fake-model-catalog.json'), { approvalPolicy: 'on-request', sandboxMode: 'workspace-write' }));
    const earlier = new Set();
    for (const f of await ui.chatFrames()) earlier.add(await f.locator('#session').getAttribute('data-session-id').catch(() => null));
    await ui.command('Agent Sidecar: Start Session');
    await ui.pick('OpenAI Codex');
    await ui.enterInput('fake-model', 'Model for');
    await ui.enterInput('E2E-APPROVAL', 'Task id');
    let chat;
    await waitFor(async () => {
      for (const f of await ui.chatFrames()) {
        if (!(await (await f.frameElement()).isVisible())) continue;
        const header = f.locator('#session');
        if ((await header.innerText()).startsWith('codex') && (await header.getAttribute('data-status')) === 'active' && !earlier.has(await header.getAttribute('data-session-id'))) return (chat = f), true;
      }
      return false;
    }, 60_000, 'the new codex session in a chat on screen');
    await sendFromChat(chat, `escalate ${nonce}`);
    const card = chat.locator('.card.approval.pending', { hasText: 'Run this command?' });
    await card.waitFor({ timeout: 60_000 });
    const detail = await card.locator('.detail').innerText();
    if (detail.trim() !== escalatedCmd) throw new Error(`approval detail: ${JSON.stringify(detail)} (expected ${JSON.stringify(escalatedCmd)})`);
    const labels = (await card.locator('button').allInnerTexts()).map((t) => t.trim());
    for (const want of ['Yes, proceed', "Yes, and don't ask again", 'No, and tell Codex what to do differently']) if (!labels.includes(want)) throw new Error(`approval buttons: ${JSON.stringify(labels)}`);
    await waitFor(async () => (await chat.locator('#busy-text').innerText()) === 'Waiting for your approval', 10_000, 'the busy bar to say it waits for an approval');
    if (existsSync(outsideFile)) throw new Error('the command ran before it was approved');
    await card.scrollIntoViewIfNeeded();
    await shoot(page, chat, 'codex-approval-pending');
    await card.locator('button', { hasText: 'Yes, proceed' }).click();
    await chat.locator('.card.approval.allowed .outcome', { hasText: 'Allowed by you in chat: Yes, proceed' }).waitFor({ timeout: 30_000 });
    await waitFor(async () => existsSync(outsideFile) && readFileSync(outsideFile, 'utf8') === 'approved\n', 30_000, `"approved" in ${outsideFile}`);
    const command = chat.locator('.card.tool', { hasText: escalatedCmd });
    await command.waitFor({ timeout: 60_000 });
    await waitFor(async () => (await command.getAttribute('class')).split(' ').includes('completed'), 30_000, 'the command card to complete');
    await chat.locator('.message.assistant', { hasText: `Escalation done: ${nonce}` }).waitFor({ timeout: 60_000 });
    await waitFor(async () => await chat.locator('#busy').isHidden(), 30_000, 'the busy indicator to go away');
    const request = fake.requests.find((users) => users.at(-1) === `escalate ${nonce}`);
    if (!request) throw new Error(`the fake model never got "escalate ${nonce}"`);
    await chat.locator('.message.assistant', { hasText: `Escalation done: ${nonce}` }).scrollIntoViewIfNeeded();
    await shoot(page, chat, 'codex-approval-resolved');
  });

  await check('13 window reload: the Codex terminal, the shell terminal and the chat come back by themselves, the agent was not restarted, and the answer to a message sent just before the reload is in the chat', 'reload', page, async () => {
    const agentsBefore = codexPids(codexBin);
    const sidecarsBefore = sidecarPids(dataDir);
    if (agentsBefore.length === 0 || sidecarsBefore.length !== 1) throw new Error(`expected Codex running and one sidecar (codex ${agentsBefore}, sidecars ${sidecarsBefore})`);
    for (const name of ['codex', 'shell']) await page.locator('.tabs-container .tab', { hasText: name }).first().waitFor({ timeout: 10_000 });
    const chat = await ui.chatFrame();
    await sendFromChat(chat, `slow ${nonce}`);
    await waitFor(async () => fake.turns.includes(`slow ${nonce}`), 30_000, 'the model to get the slow message');

    await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), ui.command('Developer: Reload Window')]);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });

    // Both terminals come back without anything done, each showing its worker's screen.
    for (const name of ['codex', 'shell']) await page.locator('.tabs-container .tab', { hasText: name }).first().waitFor({ timeout: 30_000 });
    // The chat's session is the last Codex session started (check 12): one of the Codex tabs.
    await waitFor(async () => {
      for (const tab of await page.locator('.tabs-container .tab', { hasText: 'codex' }).all()) {
        await tab.click();
        for (const rows of await page.locator('.editor-instance .xterm-rows').all()) if ((await rows.innerText()).includes(`slow ${nonce}`)) return true;
      }
      return false;
    }, 30_000, 'the Codex terminal to show its screen (the slow message) again');

    // The same agent processes and the same sidecar (plus the relay the reloaded window started).
    const gone = agentsBefore.filter((pid) => !isAlive(pid));
    if (gone.length) throw new Error(`Codex was restarted: ${gone} gone`);
    if (!sidecarPids(dataDir).includes(sidecarsBefore[0])) throw new Error(`the sidecar (pid ${sidecarsBefore[0]}) did not outlive the window`);

    // The chat is back, and the answer of the turn that ran across the reload is in it.
    const after = await ui.chatFrame();
    await after.locator('.message.user', { hasText: `slow ${nonce}` }).waitFor({ timeout: 30_000 });
    await after.locator('.message.assistant', { hasText: `Slow answer ${nonce}` }).waitFor({ timeout: 60_000 });
    const reopened = reopenedAfterActivation(join(cs, 'user', 'logs'));
    log(`window reload: the terminals were reopened ${reopened ?? '?'} ms after the extension activated`);
    await shoot(page, after, 'reload');
  });

  await check('14 worktree session from the palette: "Start Session in New Worktree" runs a shell in a new git worktree under the data dir; the sessions view shows its kind and branch; End with uncommitted changes asks, and Keep Worktree keeps it', 'worktree', page, async () => {
    // Worktree sessions need a git repository with a commit: the workspace becomes one.
    const git = (...args) => sh('git', ['-C', ws, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', ...args]);
    if (!existsSync(join(ws, '.git'))) git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', 'e2e');
    await ui.command('Agent Sidecar: Start Session in New Worktree');
    await ui.pick('Shell');
    await ui.enterInput('E2E-WT', 'Task id');
    await ui.command('Agent Sidecar: Focus on Sessions View');
    const row = page.locator('.monaco-list-row[aria-label*="shell session"][aria-label*="worktree agent-sidecar/"]').first();
    await row.waitFor({ timeout: 60_000 });
    const label = await row.getAttribute('aria-label');
    const id8 = (label.match(/shell session (\w{8}) active/) ?? [])[1];
    if (!id8 || !label.includes(`worktree agent-sidecar/${id8}`) || !label.includes('task E2E-WT')) throw new Error(`sessions view row: ${label}`);
    const text = await row.innerText();
    if (!text.includes(`⎇ agent-sidecar/${id8}`)) throw new Error(`the row does not show the branch: ${text}`);
    // The worktree exists on disk under the data dir, registered with the repository.
    const path = join(dataDir, 'worktrees', `ws-${id8}`);
    if (!existsSync(join(path, 'README.md'))) throw new Error(`no worktree at ${path}`);
    if (!git('worktree', 'list').includes(path)) throw new Error(`git does not list the worktree ${path}`);
    // Its shell runs in the worktree, and it is a child row of the session.
    await page.locator('.monaco-list-row', { hasText: 'shell · running · pid' }).first().waitFor({ timeout: 10_000 });
    // Its prompt names the worktree's folder. (Keys meant for the palette can reach the new
    // terminal while it takes the focus: Ctrl+C drops whatever is on its input line first.)
    let term;
    await waitFor(async () => {
      for (const rows of await page.locator('.editor-instance .xterm-rows').all()) if (await rows.isVisible() && (await rows.innerText()).includes(`ws-${id8}`)) return (term = rows), true;
      return false;
    }, 30_000, 'the worktree shell prompt');
    await term.click({ force: true });
    // Then a new prompt (one more than before) ends the screen: typing before it was drawn lost the first key once.
    const prompts = async () => ((await term.innerText()).match(new RegExp(`ws-${id8}[#$>]`, 'g')) ?? []).length;
    const promptsBefore = await prompts();
    await page.keyboard.press('Control+C');
    await waitFor(async () => (await prompts()) > promptsBefore && new RegExp(`ws-${id8}[#$>]$`).test((await term.innerText()).trimEnd()), 20_000, 'a new prompt after Ctrl+C');
    await page.keyboard.type('echo "in=$(pwd)"');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await term.innerText()).includes(`in=${path}`), 20_000, `the shell to say it runs in ${path}`);
    await page.screenshot({ path: join(results, 'worktree-session.png') });
    // Uncommitted work in the worktree: End asks what to do with it.
    writeFileSync(join(path, 'agent-notes.txt'), 'work in progress\n');
    await ui.command('Agent Sidecar: End Session');
    await ui.pick(id8);
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'uncommitted changes in 1 file(s): agent-notes.txt' });
    await dialog.waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(results, 'worktree-end-question.png') });
    await dialog.getByRole('button', { name: 'Keep Worktree' }).click();
    await page.locator(`.monaco-list-row[aria-label*="shell session ${id8} completed"]`).first().waitFor({ timeout: 30_000 });
    await page.locator('.notifications-toasts .notification-toast', { hasText: `worktree is kept at ${path}` }).first().waitFor({ timeout: 10_000 });
    if (!existsSync(join(path, 'agent-notes.txt'))) throw new Error('the kept worktree lost the uncommitted file');
  });

  await check('15 two conversations side by side: "Start Session" with a live session offers to continue it or start a new conversation; "New conversation" twice gives two live sessions, each with its own agent process', 'side-by-side', page, async () => {
    // Fake agents run by this run's sidecar (other runs may have their own on this machine).
    const agents = () => {
      const procs = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n').map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/)).filter(Boolean);
      const parent = new Map(procs.map((m) => [Number(m[1]), Number(m[2])]));
      const ours = new Set(sidecarPids(dataDir));
      const under = (pid) => { for (let p = parent.get(pid), n = 0; p && n < 20; p = parent.get(p), n++) if (ours.has(p)) return true; return false; };
      return procs.filter((m) => m[3].includes('fake-agent.sh') && under(Number(m[1]))).length;
    };
    const agentsBefore = agents();
    const ids = [];
    for (const task of ['E2E-SIDE-1', 'E2E-SIDE-2']) {
      const shown = new Set();
      for (const f of await ui.chatFrames()) shown.add(await f.locator('#session').getAttribute('data-session-id').catch(() => null));
      await ui.command('Agent Sidecar: Start Session');
      await ui.pick('Fake agent');
      // The first time a fake session may be live from check 8; the second time the first one of this check is.
      const offered = await ui.pickIfAsked('already running here', 'New conversation', 'e.g. JIRA-123');
      if (ids.length && !offered) throw new Error('Start Session did not offer a new conversation beside the live session');
      await ui.enterInput(task, 'Task id');
      let id;
      await waitFor(async () => {
        for (const f of await ui.chatFrames()) {
          if (!(await (await f.frameElement()).isVisible())) continue;
          const header = f.locator('#session');
          const sid = await header.getAttribute('data-session-id');
          if ((await header.innerText()).includes(task) && (await header.getAttribute('data-status')) === 'active' && !shown.has(sid) && !ids.includes(sid)) return (id = sid), true;
        }
        return false;
      }, 60_000, `the new fake session (${task}) in a chat on screen`);
      ids.push(id);
    }
    await waitFor(async () => agents() >= agentsBefore + 2, 20_000, 'two more fake agent processes');
    await ui.command('Agent Sidecar: Focus on Sessions View');
    for (const id of ids) await page.locator(`.monaco-list-row[aria-label*="fake session ${id.slice(-8)} active"]`).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(results, 'side-by-side.png') });
  });

  await check('16 reading an old session: after a /clear the conversation is one row whose child is the cleared session; clicking it opens a read-only chat of it, and the chat view and the status bar stay on the live session', 'read-old', page, async () => {
    await ui.command('Agent Sidecar: Start Session');
    await ui.pick('Fake agent');
    await ui.pickIfAsked('already running here', 'New conversation', 'e.g. JIRA-123');
    await ui.enterInput('E2E-READ', 'Task id');
    let chat;
    await waitFor(async () => {
      for (const f of await ui.chatFrames()) {
        if (!(await (await f.frameElement()).isVisible())) continue;
        const header = f.locator('#session');
        if ((await header.innerText()).includes('E2E-READ') && (await header.getAttribute('data-status')) === 'active') return (chat = f), true;
      }
      return false;
    }, 60_000, 'the E2E-READ session in a chat on screen');
    const oldId = await chat.locator('#session').getAttribute('data-session-id');
    await sendFromChat(chat, `read me ${nonce}`);
    await chat.locator('.message.assistant', { hasText: `:read me ${nonce}` }).waitFor({ timeout: 30_000 });
    await waitFor(async () => await chat.locator('#busy').isHidden(), 30_000, 'the busy indicator to go away');
    // The button's click event, not a pointer click: the agent's terminal, opened by the start, can
    // lie over the chat editor while its frame still counts as visible (check 3 clicks Clear for real).
    await chat.locator('#clear').dispatchEvent('click');
    await waitFor(async () => (await chat.locator('#session').getAttribute('data-session-id')) !== oldId, 30_000, 'the chat to follow the new session');
    const liveId = await chat.locator('#session').getAttribute('data-session-id');
    const statusBar = page.locator('.part.statusbar');
    await waitFor(async () => (await statusBar.innerText()).includes('E2E-READ: active'), 10_000, 'the status bar on the live session');
    // One conversation row (the live session) with the cleared session as its child.
    await ui.command('Agent Sidecar: Focus on Sessions View');
    await page.locator(`.monaco-list-row[aria-label*="fake session ${liveId.slice(-8)} active"]`).first().waitFor({ timeout: 30_000 });
    const old = page.locator(`.monaco-list-row[aria-label*="fake session ${oldId.slice(-8)} completed"]`).first();
    await old.waitFor({ timeout: 30_000 });
    const level = async (id) => page.locator(`.monaco-list-row[aria-label*="fake session ${id.slice(-8)}"]`).first().getAttribute('aria-level');
    if (Number(await level(oldId)) !== Number(await level(liveId)) + 1) throw new Error(`the cleared session is not a child of the conversation (levels ${await level(oldId)}, ${await level(liveId)})`);
    if (!(await old.innerText()).includes('cleared')) throw new Error(`cleared row: ${await old.innerText()}`);
    const before = await ui.chatFrames();
    await old.click();
    let reader;
    await waitFor(async () => {
      for (const f of await ui.chatFrames()) if (!before.includes(f) && (await f.locator('#session').getAttribute('data-session-id')) === oldId) return (reader = f), true;
      return false;
    }, 30_000, 'a read-only chat of the cleared session');
    await reader.locator('.message.user', { hasText: `read me ${nonce}` }).waitFor({ timeout: 10_000 });
    if ((await reader.locator('#session').getAttribute('data-status')) !== 'completed') throw new Error('the reader does not show the session as completed');
    if (!(await reader.locator('#input').isDisabled())) throw new Error('the read-only chat takes input');
    await page.locator('.tabs-container .tab', { hasText: `Agent Chat: fake ${oldId.slice(-8)} (cleared)` }).first().waitFor({ timeout: 10_000 });
    // The chat view and the status bar are still on the live session.
    if ((await chat.locator('#session').getAttribute('data-session-id')) !== liveId) throw new Error('the chat view left the live session');
    const bar = await statusBar.innerText();
    if (!bar.includes('E2E-READ: active')) throw new Error(`the status bar left the live session: ${bar}`);
    await shoot(page, reader, 'read-old');
  });
}

/** A screenshot of the whole window, and one of the chat alone (`<name>.png`, `<name>-chat.png`). */
async function shoot(page, chat, name) {
  await page.screenshot({ path: join(results, `${name}.png`) });
  try {
    await (await chat.frameElement()).screenshot({ path: join(results, `${name}-chat.png`) });
  } catch (err) {
    log(`chat screenshot ${name}: ${err.message}`);
  }
}

/**
 * The scripted fake agent (tests/testdata/agents/fake-agent.sh) with the approval pattern of its
 * `ask CMD` prompt, as tests/AgentSidecar.EndToEnd.Tests/ApprovalTests.cs configures it.
 */
function fakeAgentProfile() {
  return {
    displayName: 'Fake agent',
    command: 'bash',
    args: ['--norc', join(root, 'tests', 'testdata', 'agents', 'fake-agent.sh')],
    ready: { osc: '^7501;state=idle' },
    busy: { osc: '^7501;state=working' },
    done: { osc: '^7501;state=done' },
    failed: { osc: '^7501;state=error' },
    input: { bracketedPaste: false, submitSeparately: false },
    interrupt: '\u001b',
    answerPattern: '^• ',
    chromePatterns: ['^›', '^■', '^\\s*\\d\\. ', 'Would you like', '^\\s*\\$ '],
    clear: { command: '/clear', enters: 1 },
    readyTimeoutSeconds: 10,
    features: ['chat'],
    approvals: [{
      screen: 'Would you like to run the following command\\?\\n\\s*\\$ (?<detail>.+)\\n.*1\\. Yes, proceed',
      title: 'Run a command?',
      selectedMarker: '›',
      options: [
        { optionId: 'yes', label: 'Yes, proceed', kind: 'allow_once', keys: 'y' },
        { optionId: 'no', label: 'No, and tell me what to do differently', kind: 'reject_once', keys: '\u001b' },
      ],
    }],
  };
}


async function check(name, shot, page, body) {
  if (only && !only.includes(name.split(' ')[0])) return;
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
