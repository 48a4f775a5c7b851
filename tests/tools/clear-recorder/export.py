#!/usr/bin/env python3
"""export.py NAME DESTDIR CASE : rec/NAME.* -> DESTDIR/CASE.jsonl (+ CASE.signals.json)"""
import sys, json, base64, os, subprocess, re
name, dest, case = sys.argv[1:4]; R = os.environ.get('RESEARCH_DIR', '/tmp/research')
subprocess.run(['python3', f'{R}/tojsonl.py', name], capture_output=True)
chunks = [json.loads(l) for l in open(f'{R}/rec/{name}.jsonl')]
tl = [json.loads(l) for l in open(f'{R}/rec/{name}.timeline.jsonl')]
sends = [e for e in tl if e['kind'] == 'send']
first_send = next(e for e in sends if e['how'] == 'text')
first_in = next(c for c in chunks if c['dir'] == 'in' and base64.b64decode(c['b64']) == first_send['what'].encode())
off = first_send['t'] - first_in['t']
KEYS = {'Enter': b'\r', 'Tab': b'\t', 'Up': b'\x1b[A', 'Down': b'\x1b[B', 'C-l': b'\x0c'}
def bytes_of(s):
    if s['how'] == 'text': return s['what'].encode()
    if s['how'] == 'hex': return bytes.fromhex(s['what'])
    return b''.join(KEYS[k] for k in s['what'].split())
queue = list(sends)
out = []
for c in chunks:
    b = base64.b64decode(c['b64']); e = {'t': round(c['t'] + off, 4), 'dir': c['dir'], 'b64': c['b64']}
    if c['dir'] == 'in':
        if queue and bytes_of(queue[0]) == b:
            s = queue.pop(0)
            e['note'] = {'text': 'typed ' + json.dumps(s['what']), 'keys': 'key ' + s['what'], 'hex': 'written raw (bracketed paste)'}[s['how']]
        elif b.startswith(b'\x1bP>|'): e['note'] = 'terminal reply (tmux): XTVERSION'
        elif re.fullmatch(rb'(\x1b\[\?[\d;]*c|\x1b\[\d+;\d+R)+', b): e['note'] = 'terminal reply (tmux): DA1/CPR'
        else: e['note'] = 'terminal reply (tmux)'
    out.append(e)
assert not queue, f'unmatched sends: {queue}'
os.makedirs(dest, exist_ok=True)
with open(f'{dest}/{case}.jsonl', 'w') as f:
    for e in out: f.write(json.dumps(e) + '\n')
agent = name.split('-')[0]
sig = []
for e in tl:
    if e['kind'] != 'state': continue
    k = e['key']
    if k.startswith('sess:'): what = '~/.claude/sessions/' + k[5:]
    elif k.startswith('tx:'): what = ('~/.claude/projects/<cwd>/' if agent == 'claude' else '$CODEX_HOME/sessions/YYYY/MM/DD/') + k[3:]
    elif k.startswith('fd:'): what = '/proc/<pid>/fd -> ' + k[3:]
    elif k.startswith('file:/thread-writer-locks/') or k.startswith('file:/tui-thread-reference-capabilities/'): what = '$CODEX_HOME' + k[5:]
    elif k == 'requests': what = 'requests received by the fake model server'
    else: continue
    sig.append({'t': e['t'], 'what': what, 'value': e['value']})
screens = []
txt = open(f'{R}/rec/{name}.screens.txt').read()
for block in re.split(r'^===== ', txt, flags=re.M)[1:]:
    head, _, body = block.partition('\n'); t, label = head.split(' ', 1)
    screens.append({'t': float(t), 'label': label, 'lines': [l.rstrip() for l in body.rstrip('\n').split('\n')]})
json.dump({'agent': {'claude': 'Claude Code 2.1.332', 'codex': 'Codex CLI 0.169.0'}[agent],
           'terminal': 'tmux 3.3a pane 120x40, TERM=xterm-256color; recorded with script(1) -B (both directions)',
           'clock': 'seconds since spawn (same clock as the .jsonl t)',
           'inputs': [{'t': s['t'], 'how': s['how'], 'what': s['what']} for s in sends],
           'signals': sig, 'screens': screens}, open(f'{dest}/{case}.signals.json', 'w'), indent=1, ensure_ascii=False)
print(case, len(out), 'chunks')
