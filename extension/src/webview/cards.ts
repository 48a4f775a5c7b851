// The HTML of the turn's cards: tool calls (with an edit's diffs), approvals and the plan. Pure
// string building, every text escaped: the page sets it as innerHTML and handles the buttons by
// their data-action (main.ts), so the cards are tested without a DOM.
import type { ChatToolData, ToolFile } from '../protocol/events';
import { ApprovalItem, PlanItem, ToolItem, approvalOutcome, isAllow } from '../chat/turnItems';

/** Output longer than this many lines starts folded (its tail is what matters, and it is shown when opened). */
export const foldedOutputLines = 12;

/** Whether a foldable part (by its id) is open; `byDefault` when the user has not toggled it. */
export type IsOpen = (foldId: string, byDefault: boolean) => boolean;

const statusIcons: Record<string, string> = { pending: '○', completed: '✓', failed: '✗' };
const planChecks: Record<string, string> = { pending: '☐', in_progress: '◐', completed: '☑' };

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A path as shown: relative to the workspace when inside it. */
export function displayPath(path: string, workspace?: string): string {
  if (workspace && path.startsWith(`${workspace.replace(/\/+$/, '')}/`)) return path.slice(workspace.replace(/\/+$/, '').length + 1);
  return path;
}

function statusIcon(status: string): string {
  const label = status.replace(/_/g, ' ');
  if (status === 'in_progress') return `<span class="status-icon in_progress" title="${label}"><span class="spinner"></span></span>`;
  return `<span class="status-icon ${escapeHtml(status)}" title="${escapeHtml(label)}">${statusIcons[status] ?? '•'}</span>`;
}

/** A unified diff, one span per line: added, removed, hunk header, file header or context. */
export function diffHtml(diff: string): string {
  const lines = diff.endsWith('\n') ? diff.slice(0, -1).split('\n') : diff.split('\n');
  return lines.map((line) => {
    const cls = line.startsWith('+++') || line.startsWith('---') ? 'file' : line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : 'ctx';
    return `<span class="line ${cls}">${escapeHtml(line) || ' '}</span>`;
  }).join('');
}

function fileHtml(item: ToolItem, file: ToolFile, index: number, workspace: string | undefined): string {
  const data = `data-key="${escapeHtml(item.key)}" data-index="${index}"`;
  const isNew = file.oldText === undefined;
  return `<div class="file"><div class="file-header"><span class="path" title="${escapeHtml(file.path)}">${escapeHtml(displayPath(file.path, workspace))}</span>`
    + `${isNew ? '<span class="badge">new</span>' : ''}<span class="grow"></span>`
    + `<button type="button" class="secondary" data-action="openDiff" ${data}>Open diff</button>`
    + `<button type="button" class="secondary" data-action="openFile" ${data}>Open file</button></div>`
    + (file.diff ? `<pre class="diff">${diffHtml(file.diff)}</pre>` : '<div class="note">no diff recorded</div>') + '</div>';
}

function outputHtml(item: ToolItem, tool: ChatToolData, isOpen: IsOpen): string {
  if (tool.output === undefined || tool.output === '') return '';
  const text = tool.output.replace(/\n$/, '');
  const lines = text.split('\n').length;
  const pre = `<pre class="output">${escapeHtml(text)}</pre>`;
  if (lines <= foldedOutputLines) return pre;
  const id = `${item.key}:output`;
  return `<details class="output-fold" data-fold="${escapeHtml(id)}"${isOpen(id, false) ? ' open' : ''}><summary>Output (${lines} lines)</summary>${pre}</details>`;
}

export function toolCardHtml(item: ToolItem, workspace: string | undefined, isOpen: IsOpen): string {
  const t = item.tool;
  const parts: string[] = [];
  if (t.command !== undefined) parts.push(`<pre class="command">$ ${escapeHtml(t.command)}</pre>`);
  if (t.cwd !== undefined) parts.push(`<div class="cwd">in ${escapeHtml(t.cwd)}</div>`);
  parts.push(outputHtml(item, t, isOpen));
  if (t.outputTruncated) parts.push('<div class="note">output truncated: only its end is shown</div>');
  if (t.exitCode !== undefined) parts.push(`<div class="exit ${t.exitCode === 0 ? 'ok' : 'error'}">exit code ${t.exitCode}</div>`);
  (t.files ?? []).forEach((f, i) => parts.push(fileHtml(item, f, i, workspace)));
  if (!t.files?.length) {
    for (const l of t.locations ?? []) {
      const where = `${displayPath(l.path, workspace)}${l.line ? `:${l.line}` : ''}`;
      parts.push(`<div class="location"><button type="button" class="link" data-action="openFile" data-path="${escapeHtml(l.path)}"${l.line ? ` data-line="${l.line}"` : ''}>${escapeHtml(where)}</button></div>`);
    }
  }
  const body = parts.filter(Boolean).join('');
  const head = `${statusIcon(t.status)}<span class="title">${escapeHtml(t.title)}</span><span class="kind">${escapeHtml(t.kind)}</span>`;
  if (!body) return `<div class="card-head">${head}</div>`;
  return `<details data-fold="${escapeHtml(item.key)}"${isOpen(item.key, true) ? ' open' : ''}><summary class="card-head">${head}</summary><div class="card-body">${body}</div></details>`;
}

export function approvalCardHtml(item: ApprovalItem): string {
  const a = item.approval;
  const head = `<div class="card-head"><span class="status-icon approval" title="approval">?</span><span class="title">${escapeHtml(a.title)}</span></div>`;
  const detail = a.detail ? `<pre class="detail">${escapeHtml(a.detail)}</pre>` : '';
  if (a.status !== 'pending') {
    return `${head}${detail}<div class="outcome ${escapeHtml(a.status)}">${escapeHtml(approvalOutcome(a))}</div>`;
  }
  const buttons = a.options.map((o) => {
    const cls = isAllow(o) ? '' : ' class="secondary"';
    const disabled = item.answering ? ' disabled' : '';
    const label = item.answering === o.optionId ? `${o.label}…` : o.label;
    return `<button type="button"${cls} data-action="approve" data-key="${escapeHtml(item.key)}" data-option="${escapeHtml(o.optionId)}"${disabled}>${escapeHtml(label)}</button>`;
  }).join('');
  return `${head}${detail}<div class="actions">${buttons}</div>`;
}

export function planCardHtml(item: PlanItem): string {
  const done = item.entries.filter((e) => e.status === 'completed').length;
  const entries = item.entries.map((e) => `<li class="${escapeHtml(e.status)}"><span class="check">${planChecks[e.status] ?? '☐'}</span><span>${escapeHtml(e.text)}</span></li>`).join('');
  return `<div class="card-head"><span class="title">Plan</span><span class="kind">${done}/${item.entries.length}</span></div><ul class="plan-entries">${entries}</ul>`;
}
