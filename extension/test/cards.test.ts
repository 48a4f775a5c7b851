// The cards' HTML: what each shows, what is folded, the buttons' data, and that text is escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalItem, planItem, toolItem } from '../src/chat/turnItems';
import type { ChatApprovalData, ChatToolData } from '../src/protocol/events';
import { IsOpen, approvalCardHtml, diffHtml, displayPath, foldedOutputLines, planCardHtml, toolCardHtml } from '../src/webview/cards';

const byDefault: IsOpen = (_id, d) => d;
const tool = (more: Partial<ChatToolData>): ChatToolData => ({ turnId: 't1', toolCallId: 'c1', kind: 'execute', title: 'npm test', status: 'completed', ...more });
const card = (more: Partial<ChatToolData>, isOpen = byDefault, workspace = '/home/u/project') => toolCardHtml(toolItem('s1', tool(more)), workspace, isOpen);
const count = (html: string, what: string) => html.split(what).length - 1;

test('a tool card: status icon, title, command and cwd, output, exit code', () => {
  const html = card({ command: 'npm test', cwd: '/home/u/project', output: '# pass 12\n', exitCode: 0 });
  assert.match(html, /<details data-fold="tool:s1:c1" open><summary class="card-head"><span class="status-icon completed"[^>]*>✓<\/span><span class="title">npm test<\/span>/);
  assert.match(html, /<pre class="command">\$ npm test<\/pre>/);
  assert.match(html, /<div class="cwd">in \/home\/u\/project<\/div>/);
  assert.match(html, /<pre class="output"># pass 12<\/pre>/);
  assert.match(html, /<div class="exit ok">exit code 0<\/div>/);
  assert.doesNotMatch(html, /truncated/);
  assert.match(card({ status: 'failed', exitCode: 2 }), /status-icon failed[^>]*>✗<.*exit error">exit code 2/);
  assert.match(card({ status: 'pending' }), /status-icon pending[^>]*>○</);
  assert.match(card({ status: 'in_progress' }), /status-icon in_progress[^>]*><span class="spinner">/);
  // Nothing to unfold: a plain head, no <details>.
  assert.doesNotMatch(card({}), /<details/);
});

test('long output starts folded, short output shows; a truncated tail says so; folds follow the user', () => {
  const long = Array.from({ length: foldedOutputLines + 1 }, (_, i) => `line ${i}`).join('\n');
  const folded = card({ output: long, outputTruncated: true });
  assert.match(folded, new RegExp(`<details class="output-fold" data-fold="tool:s1:c1:output"><summary>Output \\(${foldedOutputLines + 1} lines\\)</summary>`));
  assert.match(folded, /output truncated/);
  const short = card({ output: Array.from({ length: foldedOutputLines }, (_, i) => `line ${i}`).join('\n') });
  assert.doesNotMatch(short, /output-fold/);
  const opened = card({ output: long }, (id, d) => (id === 'tool:s1:c1:output' ? true : d));
  assert.match(opened, /data-fold="tool:s1:c1:output" open>/);
  const closed = card({ output: 'x' }, (id, d) => (id === 'tool:s1:c1' ? false : d));
  assert.match(closed, /<details data-fold="tool:s1:c1">/);
});

test('an edit card: each file relative to the workspace, its diff coloured, Open diff and Open file', () => {
  const html = card({
    kind: 'edit', title: 'Edit src/greet.js', files: [
      { path: '/home/u/project/src/greet.js', oldText: 'a\n', newText: 'b\n', diff: '--- a/src/greet.js\n+++ b/src/greet.js\n@@ -1 +1 @@\n-a\n+b\n' },
      { path: '/elsewhere/new.txt', newText: 'n\n', diff: '@@ -0,0 +1 @@\n+n\n' },
    ],
  });
  assert.match(html, /<span class="path" title="\/home\/u\/project\/src\/greet.js">src\/greet.js<\/span>/);
  assert.match(html, /<span class="path" title="\/elsewhere\/new.txt">\/elsewhere\/new.txt<\/span><span class="badge">new<\/span>/);
  assert.equal(count(html, '<span class="badge">new</span>'), 1);
  assert.match(html, /data-action="openDiff" data-key="tool:s1:c1" data-index="0">Open diff/);
  assert.match(html, /data-action="openFile" data-key="tool:s1:c1" data-index="1">Open file/);
  assert.equal(count(html, 'class="line add"'), 2);
  assert.equal(count(html, 'class="line del"'), 1);
  const empty = card({ kind: 'edit', files: [{ path: '/home/u/project/a', oldText: 'x', newText: 'x', diff: '' }] });
  assert.match(empty, /no diff recorded/);
  assert.doesNotMatch(empty, /<pre class="diff">/);
});

test('diff lines by their first character; text is escaped', () => {
  assert.equal(diffHtml('--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n ctx\n-<old>\n+new & \n'),
    '<span class="line file">--- a/x</span><span class="line file">+++ b/x</span><span class="line hunk">@@ -1,2 +1,2 @@</span>'
    + '<span class="line ctx"> ctx</span><span class="line del">-&lt;old&gt;</span><span class="line add">+new &amp; </span>');
});

test('what the agent wrote is escaped everywhere', () => {
  const html = card({ title: '<img src=x onerror=alert(1)>', command: 'echo "<b>"', output: '</pre><script>x</script>', cwd: '<cwd>' });
  assert.doesNotMatch(html, /<img|<script|<b>|<cwd>/);
  const a = approvalCardHtml(approvalItem('s1', approval({ title: '<t>', detail: '<d>', options: [{ optionId: '"x', label: '<l>', kind: 'allow_once' }] })));
  assert.doesNotMatch(a, /<t>|<d>|<l>|data-option=""x"/);
});

const approval = (more: Partial<ChatApprovalData> = {}): ChatApprovalData => ({
  turnId: 't1', approvalId: 'a1', title: 'Run a command?', detail: 'touch x', status: 'pending',
  options: [{ optionId: 'yes', label: 'Yes, proceed', kind: 'allow_once' }, { optionId: 'always', label: 'Always', kind: 'allow_always' }, { optionId: 'no', label: 'No', kind: 'reject_once' }],
  ...more,
});

test('a pending approval: the detail and one button per option, allow kinds primary, reject kinds secondary', () => {
  const html = approvalCardHtml(approvalItem('s1', approval()));
  assert.match(html, /<span class="title">Run a command\?<\/span>/);
  assert.match(html, /<pre class="detail">touch x<\/pre>/);
  assert.match(html, /<button type="button" data-action="approve" data-key="approval:s1:a1" data-option="yes">Yes, proceed<\/button>/);
  assert.match(html, /<button type="button" data-action="approve" data-key="approval:s1:a1" data-option="always">Always<\/button>/);
  assert.match(html, /<button type="button" class="secondary" data-action="approve" data-key="approval:s1:a1" data-option="no">No<\/button>/);
  assert.doesNotMatch(html, /outcome/);
  const answering = approvalCardHtml({ ...approvalItem('s1', approval()), answering: 'yes' });
  assert.equal(count(answering, ' disabled>'), 3);
  assert.match(answering, />Yes, proceed…</);
});

test('a resolved approval shows how it ended instead of its buttons', () => {
  const html = approvalCardHtml(approvalItem('s1', approval({ status: 'allowed', resolvedBy: 'chat', optionId: 'yes' })));
  assert.doesNotMatch(html, /<button/);
  assert.match(html, /<div class="outcome allowed">Allowed by you in chat: Yes, proceed<\/div>/);
  assert.match(approvalCardHtml(approvalItem('s1', approval({ status: 'cancelled', resolvedBy: 'agent' }))), /<div class="outcome cancelled">Cancelled<\/div>/);
});

test('the plan: a checklist with ☐ ◐ ☑ and how many are done', () => {
  const html = planCardHtml(planItem('s1', 't1', [{ text: 'find', status: 'completed' }, { text: 'edit', status: 'in_progress' }, { text: 'test', status: 'pending' }]));
  assert.match(html, /<span class="kind">1\/3<\/span>/);
  assert.match(html, /<li class="completed"><span class="check">☑<\/span><span>find<\/span><\/li><li class="in_progress"><span class="check">◐<\/span><span>edit<\/span><\/li><li class="pending"><span class="check">☐<\/span><span>test<\/span><\/li>/);
});

test('paths inside the workspace are shown relative to it', () => {
  assert.equal(displayPath('/w/p/src/a.ts', '/w/p'), 'src/a.ts');
  assert.equal(displayPath('/w/p/src/a.ts', '/w/p/'), 'src/a.ts');
  assert.equal(displayPath('/w/pp/a.ts', '/w/p'), '/w/pp/a.ts');
  assert.equal(displayPath('/w/p/a.ts', undefined), '/w/p/a.ts');
});
