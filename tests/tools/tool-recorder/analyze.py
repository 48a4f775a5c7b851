#!/usr/bin/env python3
"""analyze.py OUTDIR : one merged timeline of a toolrec.py recording: keys sent, OSC marks (title, 7501
state, 7777, notifications), BEL, transcript records, status changes, requests to the fake, snaps."""
import sys, json, re, base64
d = sys.argv[1]
tl = [json.loads(l) for l in open(f'{d}/timeline.jsonl')]
T0 = tl[0]['epoch']
ev = []
for l in open(f'{d}/pty.jsonl'):
    c = json.loads(l)
    if 'b64' not in c:
        ev.append((c['t'] - T0, 'EXIT', str(c.get('exit'))))
        continue
    b = base64.b64decode(c['b64']); t = c['t'] - T0
    if c['dir'] == 'in':
        ev.append((t, 'IN', repr(b)[2:-1][:80]))
        continue
    for m in re.finditer(rb'\x1b\](\d*);?(.*?)(\x07|\x1b\\)', b, re.S):
        ev.append((t, 'OSC', f"{m.group(1).decode()} {m.group(2).decode('utf-8', 'replace')[:100]!r}"))
    s = re.sub(rb'\x1b\].*?(\x07|\x1b\\)', b'', b, flags=re.S)
    if b'\x07' in s:
        ev.append((t, 'BEL', ''))
for e in tl:
    k = e['kind']
    if k in ('screen', 'spawn'):
        continue
    x = {a: v for a, v in e.items() if a not in ('t', 'kind', 'line')}
    ev.append((e['t'], k.upper(), json.dumps(x, ensure_ascii=False)[:220]))
for t, k, s in sorted(ev, key=lambda x: x[0]):
    print(f'{t:8.3f} {k:6} {s}')
