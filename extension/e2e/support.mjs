// Helpers of the extension's end-to-end run (run.mjs): the VS Code UI through Playwright, waiting
// for conditions, and the processes a check looks at (the sidecar, Codex).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Pids of the running Codex binary. */
export function codexPids(codexBin) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().match(/^(\d+)\s+(.*)$/)).filter((m) => m && m[2].startsWith(codexBin)).map((m) => Number(m[1]));
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The extension's own measure (its log): terminals reopened this many ms after it activated, last reload. */
export function reopenedAfterActivation(logsDir) {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'Agent Sidecar.log') found.push(...[...readFileSync(p, 'utf8').matchAll(/reopened \d+ terminal\(s\) (\d+) ms after activation/g)].map((m) => Number(m[1])));
    }
  };
  try { walk(logsDir); } catch { /* no logs */ }
  return found.at(-1);
}

export async function sendFromChat(chat, text) {
  const input = chat.locator('#input');
  await waitFor(async () => !(await input.isDisabled()), 30_000, 'the chat input to be enabled');
  // Focus, not a click: a progress toast ("Starting …") can lie over the chat for a while, and
  // what is tested here is the chat, not where the toast is.
  await input.focus();
  await input.fill(text);
  await input.press('Enter');
}

export class Ui {
  constructor(page) { this.page = page; }

  async command(title) {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.page.keyboard.press('Escape');
        await this.page.keyboard.press('Control+Shift+P');
        const input = this.page.locator('.quick-input-widget input');
        await input.waitFor({ timeout: 10_000 });
        await input.fill(`>${title}`, { timeout: 5_000 });
        const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
        await row.waitFor({ timeout: 3_000 });
        // The command with exactly this title, not a longer one that starts with it ("Start Session in New Worktree").
        const exact = this.page.locator('.quick-input-list .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first();
        await ((await exact.count()) ? exact : row).click();
        return;
      } catch {
        // Extension commands appear a few seconds after the workbench paints; an open palette does
        // not refresh; a palette opened while a webview has the focus may close at once.
        await this.page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } }).catch(() => undefined);
      }
    }
    throw new Error(`command not found in the palette: ${title}`);
  }

  async pick(label) {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  }

  /**
   * Answers a question that may or may not come: picks `label` if the quick pick whose placeholder
   * has `question` shows; returns false if the input box with the placeholder `next` comes instead.
   * (Placeholders, not the widget's text: that keeps the previous prompt's text while hidden.)
   */
  async pickIfAsked(question, label, next) {
    const input = this.page.locator('.quick-input-widget input');
    let asked = false;
    await waitFor(async () => {
      if (!(await input.isVisible())) return false;
      const placeholder = (await input.getAttribute('placeholder')) ?? '';
      asked = placeholder.includes(question);
      return asked || placeholder === next;
    }, 30_000, `the question "${question}" or the input "${next}"`);
    if (asked) await this.pick(label);
    return asked;
  }

  /** Types into the input box; `prompt`: wait until the box is the one that says it (not the previous pick). */
  async enterInput(text, prompt) {
    if (prompt) await this.page.locator('.quick-input-widget', { hasText: prompt }).waitFor({ timeout: 15_000 });
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

export function sidecarPids(dataDir) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().match(/^(\d+)\s+(.*)$/)).filter((m) => m && m[2].includes('agent-sidecar') && m[2].includes(`--data-dir ${dataDir}`) && !m[2].includes('bash')).map((m) => Number(m[1]));
}

export async function waitFor(condition, timeoutMs, what) {
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
