// The shared event examples (tests/testdata/protocol/events, also loaded by the C# tests) against
// parseSessionEvent and the TypeScript payload types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SessionEvent, knownEventTypes, parseSessionEvent } from '../src/protocol/events';

const dir = join(__dirname, '..', '..', '..', 'tests', 'testdata', 'protocol', 'events');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const load = (file: string): { channel: string; type: string; data: Record<string, unknown> } & Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, file), 'utf8'));

/**
 * Each field of T read through its type, the absent ones left out. The compiler requires every field
 * of T to be listed, so comparing a view with the raw JSON checks the interface's field names
 * against the wire: a misnamed field, or one the JSON has and the type lacks, makes them differ.
 */
type View<T> = { [K in keyof T]-?: true | ((value: Exclude<T[K], undefined>) => unknown) };
function view<T extends object>(data: T, fields: View<T>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields) as (keyof T & string)[]) {
    const value = data[key];
    if (value === undefined) continue;
    const field = fields[key];
    out[key] = field === true ? value : field(value as Exclude<T[typeof key], undefined>);
  }
  return out;
}

const turnUsage = { inputTokens: true, outputTokens: true, cachedInputTokens: true, toolCalls: true } as const;
const metricsUsage = { turns: true, inputTokens: true, outputTokens: true, cachedInputTokens: true, toolCalls: true, activeMs: true } as const;
const metricsRecord = {
  id: true, kind: true, ts: true, sessionId: true, agentSessionId: true, provider: true, model: true, workspace: true, taskId: true,
  startedAt: true, endedAt: true, reason: true, transitionedFrom: true, transitionedTo: true, usage: (u: object) => view(u, metricsUsage),
} as const;

/** The event's data as its narrowed type sees it. */
function dataView(e: SessionEvent): Record<string, unknown> {
  switch (e.channel) {
    case 'pty':
      switch (e.type) {
        case 'output': return view(e.data, { data: true });
        case 'resize': return view(e.data, { cols: true, rows: true });
        case 'exit': return view(e.data, { exitCode: true, signal: true, reason: true });
      }
    case 'system':
      switch (e.type) {
        case 'status': return view(e.data, { status: true, reason: true, previous: true });
        case 'worker': return view(e.data, {
          action: true,
          worker: (w) => view(w, { id: true, sessionId: true, kind: true, name: true, status: true, pid: true, exitCode: true, signal: true, cols: true, rows: true, command: true, args: true, cwd: true }),
        });
        case 'error': return view(e.data, { message: true, source: true, tail: true, lostBytes: true });
        case 'worktree': return view(e.data, { action: true, path: true, branch: true, reason: true });
        case 'transition': return view(e.data, { from: true, to: true, trigger: true });
      }
    case 'chat':
      switch (e.type) {
        case 'user': return view(e.data, { turnId: true, text: true, source: true });
        case 'delta': return view(e.data, { turnId: true, text: true });
        case 'message': return view(e.data, { turnId: true, role: true, text: true, source: true });
        case 'turn': return view(e.data, { turnId: true, status: true, durationMs: true, usage: (u) => view(u, turnUsage), reason: true });
        case 'tool': return view(e.data, {
          turnId: true, toolCallId: true, kind: true, title: true, status: true, command: true, cwd: true, output: true, outputTruncated: true, exitCode: true,
          files: (f) => (f as object[]).map((x) => view(x, { path: true, oldText: true, newText: true, diff: true })),
          locations: (l) => (l as object[]).map((x) => view(x, { path: true, line: true })),
        });
        case 'approval': return view(e.data, {
          turnId: true, approvalId: true, toolCallId: true, title: true, detail: true, status: true, resolvedBy: true, optionId: true,
          options: (o) => (o as object[]).map((x) => view(x, { optionId: true, label: true, kind: true })),
        });
        case 'plan': return view(e.data, { turnId: true, entries: (en) => (en as object[]).map((x) => view(x, { text: true, status: true })) });
      }
    case 'metrics':
      switch (e.type) {
        case 'start': return view(e.data, metricsRecord);
        case 'end': return view(e.data, metricsRecord);
        case 'usage': return view(e.data, metricsRecord);
      }
  }
}

test('there are example files', () => {
  assert.ok(files.length >= knownEventTypes.length, `${files.length} files in ${dir}`);
});

for (const file of files) {
  test(`${file}: a known event whose typed fields are the JSON's`, () => {
    const raw = load(file);
    assert.ok(file.startsWith(`${raw.channel}.${raw.type}.`), `${file} is named <channel>.<type>[.<variant>].json after its content (${raw.channel}/${raw.type})`);
    const e = parseSessionEvent(structuredClone(raw));
    assert.ok(e, `${raw.channel}/${raw.type} is a known event`);
    const envelope = { sessionId: e.sessionId, seq: e.seq, ts: e.ts, channel: e.channel, type: e.type, ...(e.workerId !== undefined ? { workerId: e.workerId } : {}) };
    const { data, ...rawEnvelope } = raw;
    assert.deepEqual(envelope, rawEnvelope);
    assert.deepEqual(dataView(e), data);
  });
}

test('every known (channel, type) has an example file, and every file is a known (channel, type)', () => {
  const examples = new Set(files.map((f) => { const raw = load(f); return `${raw.channel}/${raw.type}`; }));
  const known = new Set(knownEventTypes.map((k) => `${k.channel}/${k.type}`));
  assert.equal(known.size, knownEventTypes.length, 'no pair is listed twice');
  assert.deepEqual([...known].filter((k) => !examples.has(k)), [], 'known events without an example');
  assert.deepEqual([...examples].filter((k) => !known.has(k)), [], 'examples of events the extension does not know');
});

/** Every field of the payload, nested ones too, as a path (`worker.cols`). */
function fieldPaths(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, v]) => {
    const path = `${prefix}${key}`;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? [path, ...fieldPaths(v as Record<string, unknown>, `${path}.`)] : [path];
  });
}

function withField(data: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(data);
  const keys = path.split('.');
  let target = copy;
  for (const k of keys.slice(0, -1)) target = target[k] as Record<string, unknown>;
  if (value === undefined) delete target[keys.at(-1)!];
  else target[keys.at(-1)!] = value;
  return copy;
}

/** A JSON value of another type than `v`. */
const wrongType = (v: unknown): unknown => (typeof v === 'string' ? 7 : 'x');

test('a field of a known event with the wrong type or null throws, naming the event and the field', () => {
  let cases = 0;
  for (const file of files) {
    const raw = load(file);
    for (const path of fieldPaths(raw.data)) {
      const original = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], raw.data);
      for (const bad of [wrongType(original), null]) {
        cases++;
        assert.throws(
          () => parseSessionEvent({ ...raw, data: withField(raw.data, path, bad) }),
          (err: Error) => err.message.includes(`malformed ${raw.channel}/${raw.type} event`) && err.message.includes(`data.${path} must be`),
          `${file}: data.${path} = ${JSON.stringify(bad)}`,
        );
      }
    }
  }
  assert.ok(cases > 100, `${cases} cases`);
});

test('a known event without a required field, or without data, throws', () => {
  const missing: [file: string, path: string][] = [['pty.output.json', 'data'], ['chat.turn.json', 'durationMs'], ['system.worker.json', 'worker.cols'], ['metrics.end.json', 'endedAt']];
  for (const [file, path] of missing) {
    const raw = load(file);
    assert.throws(() => parseSessionEvent({ ...raw, data: withField(raw.data, path, undefined) }), new RegExp(`data\\.${path.replace('.', '\\.')} must be`), `${file} without ${path}`);
  }
  const { data: _, ...noData } = load('chat.user.json');
  assert.throws(() => parseSessionEvent(noData), /malformed chat\/user event .*data must be an object/);
});

test('fields the extension does not know are kept: the protocol grows by adding fields', () => {
  const raw = load('chat.turn.json');
  const e = parseSessionEvent({ ...raw, data: { ...raw.data, newField: { any: 'thing' } } });
  assert.ok(e?.channel === 'chat' && e.type === 'turn');
  assert.equal(e.data.turnId, raw.data.turnId);
});

test('an event of a type or channel the extension does not know is undefined, whatever its data', () => {
  const raw = load('chat.user.json');
  assert.equal(parseSessionEvent({ ...raw, type: 'reaction', data: { emoji: 42 } }), undefined);
  assert.equal(parseSessionEvent({ ...raw, channel: 'acp', type: 'user', data: 'not even an object' }), undefined);
  assert.equal(parseSessionEvent({ ...raw, channel: 'chat', type: 'toString' }), undefined, 'no inherited property counts as known');
});

test('something that is not an event at all throws', () => {
  const raw = load('pty.output.json');
  assert.throws(() => parseSessionEvent({ ...raw, seq: '6' }), /malformed event: event\.seq must be a number/);
  assert.throws(() => parseSessionEvent({ ...raw, channel: undefined }), /event\.channel must be a string/);
  assert.throws(() => parseSessionEvent('pty/output'), /event must be an object/);
});
