#!/usr/bin/env python3
"""export.py AGENT CASE DEST : a toolrec.py recording -> golden data in DEST/<case>/:
- pty.jsonl: every PTY chunk {t, dir: "out"|"in", b64, note?}, t = seconds since spawn (as in
  tests/testdata/recordings/claude/session1.jsonl); inputs noted as typed keys or terminal (tmux) replies,
- the agent's transcript file(s) under their own names; every JSON string longer than 4000 characters
  (system prompts, tool schemas, attachments; never a tool call or output here) replaced by
  "<trimmed: N chars>" (200 in Claude Code's attachment and api-request-shape records), all else as written,
- screens.txt: the screen (tmux capture-pane) at each labelled step,
- timeline.txt: keys, OSC marks, BELs, transcript records, Claude's sessions/<pid>.json status and the
  requests to the fake, on one clock (analyze.py)."""
import sys, os, json, base64, re, glob, subprocess
agent, case, dest = sys.argv[1:4]
R = os.environ.get('RESEARCH_DIR', '/root/toolrec')
src = f'{R}/out/{agent}-{case}'
out = os.path.join(dest, case)
os.makedirs(out, exist_ok=True)
tl = [json.loads(l) for l in open(f'{src}/timeline.jsonl')]
T0 = tl[0]['epoch']
ws = f'{R}/ws/{agent}-{case}'
home = f'{R}/home/{agent}-{case}'

REPLY = re.compile(rb'^(\x1b\[\?[\d;]*c|\x1b\[\d+;\d+R|\x1bP.*?\x1b\\|\x1b\]1[01];[^\x07\x1b]*(\x07|\x1b\\)|\x1b\[[IO]|\x1b\[\?[\d;]*u|\x1b\]7501;\?\x1b\\)+$', re.S)
with open(f'{out}/pty.jsonl', 'w') as f:
    for l in open(f'{src}/pty.jsonl'):
        c = json.loads(l)
        if 'b64' not in c:
            continue
        e = {'t': round(c['t'] - T0, 4), 'dir': c['dir'], 'b64': c['b64']}
        if c['dir'] == 'in':
            b = base64.b64decode(c['b64'])
            if b == b'\x1b]7501;?\x1b\\':
                e['note'] = 'recorder reply to the 7501 program-status probe'
            elif REPLY.match(b):
                e['note'] = 'terminal reply (tmux)'
            else:
                e['note'] = 'typed ' + json.dumps(b.decode('utf-8', 'replace'))
        f.write(json.dumps(e) + '\n')


def trim(v, limit=1000):
    if isinstance(v, str):
        return v if len(v) <= limit else f'<trimmed: {len(v)} chars>'
    if isinstance(v, list):
        return [trim(x, limit) for x in v]
    if isinstance(v, dict):
        return {k: trim(x, limit) for k, x in v.items()}
    return v


def trim_record(j):
    # Claude Code's context records (attachments: skills, deferred tools, reminders; the API request's
    # shape) are long and say nothing about tools being called: their strings are cut at 200.
    return trim(j, 200 if isinstance(j, dict) and j.get("type") in ("attachment", "api-request-shape") else 4000)


for f in glob.glob(f'{src}/transcripts/*'):
    name = os.path.basename(f)
    if f.endswith('.jsonl'):
        with open(f'{out}/{name}', 'w') as o:
            for line in open(f):
                o.write(json.dumps(trim_record(json.loads(line)), ensure_ascii=False, separators=(',', ':')) + '\n')
    else:
        json.dump(trim(json.load(open(f))), open(f'{out}/{name}', 'w'), ensure_ascii=False, indent=1)

screens = open(f'{src}/screens.txt').read().split('===== ')
with open(f'{out}/screens.txt', 'w') as o:
    for s in screens:
        if '[snap: ' in s.split('\n', 2)[1] if s.count('\n') > 1 else False:
            head, body = s.split('\n', 1)
            lines = body.rstrip('\n').split('\n')
            while lines and not lines[-1].strip():
                lines.pop()
            o.write('===== ' + head + ' ' + lines[0] + '\n' + '\n'.join(lines[1:]) + '\n\n')

txt = subprocess.run(['python3', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'analyze.py'), src], capture_output=True, text=True).stdout
txt = txt.replace(ws, '$WS').replace(home, '$HOME_OR_CODEX_HOME').replace(R + '/outside', '$OUTSIDE')
open(f'{out}/timeline.txt', 'w').write(txt)
print('exported', out)
