#!/usr/bin/env python3
"""analyze.py NAME : input chunks, OSC marks and terminal-mode changes of a recording, on the timeline's clock."""
import sys, json, re, base64, subprocess, os
name = sys.argv[1]; R = os.environ.get('RESEARCH_DIR', '/tmp/research')
subprocess.run(['python3', f'{R}/tojsonl.py', name], capture_output=True)
chunks = [json.loads(l) for l in open(f'{R}/rec/{name}.jsonl')]
tl = [json.loads(l) for l in open(f'{R}/rec/{name}.timeline.jsonl')]
# clock offset: first input chunk ~ first 'send'
first_send = next(e for e in tl if e['kind'] == 'send' and e['how'] == 'text')
first_in = next(c for c in chunks if c['dir'] == 'in' and base64.b64decode(c['b64']) == first_send['what'].encode())
off = first_send['t'] - first_in['t']
def esc(b):
    return b.decode('utf-8', 'backslashreplace').replace('\x1b', 'ESC').replace('\r', '\\r').replace('\n', '\\n').replace('\x07', 'BEL').replace('\t', '\\t')
events = []
for c in chunks:
    b = base64.b64decode(c['b64']); t = round(c['t'] + off, 4)
    if c['dir'] == 'in':
        events.append((t, 'IN ', esc(b) + '   hex=' + b.hex()))
    else:
        for m in re.finditer(rb'\x1b\](.*?)(\x07|\x1b\\)', b, re.S):
            p = m.group(1)
            if p.startswith(b'0;') or p.startswith(b'2;'):
                events.append((t, 'OSC', 'title ' + esc(p[:60])))
            else:
                events.append((t, 'OSC', esc(p[:120])))
        for m in re.finditer(rb'\x1b\[([?>=<]?)([0-9;]*)([hlumpq])', b):
            pre, num, fin = m.groups()
            if pre in (b'?', b'>', b'<', b'=') and (fin in b'hlu' or pre == b'>'):
                s = (pre + num + fin).decode()
                if s not in ('?25h', '?25l', '?2026h', '?2026l'):
                    events.append((t, 'MOD', 'CSI ' + s))
for e in tl:
    if e['kind'] in ('send', 'ready', 'snap'):
        events.append((e['t'], 'DRV', json.dumps({k: v for k, v in e.items() if k != 't'})))
    elif e['kind'] == 'state':
        events.append((e['t'], 'ST ', f"{e['key']} -> {e['value']}"))
for t, k, s in sorted(events, key=lambda x: x[0]):
    print(f'{t:8.3f} {k} {s}')
