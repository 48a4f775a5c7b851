#!/usr/bin/env python3
"""pyrec.py OUT.jsonl ENVFILE CWD STEPS.json CMD... : run CMD in a 120x40 pty, answer terminal queries
(DA1, and OSC 7501;? when ANSWER7501=1), play STEPS ([["sleep",s] | ["write","text with \\u001b escapes"] |
["wait", "regex on raw output since last step"]]), record every chunk {t, dir, b64, note?}."""
import os, sys, pty, json, time, base64, select, re, struct, fcntl, termios, signal, subprocess
out, envf, cwd, stepsf = sys.argv[1:5]; cmd = sys.argv[5:]
env = dict(os.environ)
for line in subprocess.run(['bash', '-c', f'source {envf}; env -0'], capture_output=True).stdout.split(b'\0'):
    if b'=' in line:
        k, v = line.split(b'=', 1); env[k.decode()] = v.decode()
env.pop('TMUX', None); env.pop('TMUX_PANE', None)
steps = json.load(open(stepsf))
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd); os.execvpe(cmd[0], cmd, env)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
T0 = time.time(); rec = []; buf = b''; since = b''
def t(): return round(time.time() - T0, 4)
def write(b, note=None):
    os.write(fd, b); e = {'t': t(), 'dir': 'in', 'b64': base64.b64encode(b).decode()}
    if note: e['note'] = note
    rec.append(e)
def pump(timeout):
    global buf, since
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0: return True
        r, _, _ = select.select([fd], [], [], left)
        if not r: return True
        try: b = os.read(fd, 65536)
        except OSError: return False
        if not b: return False
        rec.append({'t': t(), 'dir': 'out', 'b64': base64.b64encode(b).decode()})
        buf += b; since += b
        # answer queries
        # in the order a terminal would answer: Claude sends OSC 7501;? before its DA1 barrier
        if os.environ.get('ANSWER7501') and b'\x1b]7501;?' in b: write(b'\x1b]7501;?\x1b\\', 'auto: OSC 7501 probe reply')
        if b'\x1b[c' in b or b'\x1b[0c' in b: write(b'\x1b[?62;22c', 'auto: DA1 reply')
        if b'\x1b[6n' in b: write(b'\x1b[1;1R', 'auto: CPR')
alive = True
for st in steps:
    if not alive: break
    k, a = st[0], st[1]
    if k == 'sleep': alive = pump(a)
    elif k == 'write': write(a.encode(), st[2] if len(st) > 2 else None); since = b''
    elif k == 'wait':
        end = time.time() + 30
        while alive and not re.search(a.encode(), since) and time.time() < end: alive = pump(0.05)
alive and pump(3)
try: os.kill(pid, signal.SIGHUP)
except OSError: pass
with open(out, 'w') as f:
    for e in rec: f.write(json.dumps(e) + '\n')
print('recorded', len(rec), 'chunks to', out)
