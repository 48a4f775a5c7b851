#!/usr/bin/env python3
"""drive.py AGENT CASE : run one clear-case scenario in tmux under `script`, log a timeline.
AGENT: claude|codex. Writes rec/<agent>-<case>.{io,tm,jsonl,timeline.jsonl,screens.txt}."""
import sys, os, time, json, glob, subprocess, threading, re

agent, case = sys.argv[1], sys.argv[2]
name = f'{agent}-{case}'
R = os.environ.get('RESEARCH_DIR', '/tmp/research')
WS = f'{R}/ws-{agent}'
CLAUDE = '/root/.cache/agent-sidecar/agents/claude-code-2.1.332/node_modules/@anthropic-ai/claude-code-linux-x64/claude'
CODEX = '/root/.cache/agent-sidecar/agents/codex-0.169.0/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex'
T0 = None
timeline = []
lock = threading.Lock()

def now(): return round(time.time() - T0, 4)
def log(kind, **kw):
    with lock:
        timeline.append({'t': now(), 'kind': kind, **kw})

def tmux(*a): return subprocess.run(['tmux', *a], capture_output=True, text=True).stdout
def screen(): return tmux('capture-pane', '-p', '-t', name)

# fresh homes
if agent == 'claude':
    home = f'{R}/home-{name}'
    subprocess.run(['rm', '-rf', home, WS]); os.makedirs(home + '/.claude'); os.makedirs(WS)
    key = 'sk-ant-api03-fakefakefakefakefakefakefakefakefake-TESTKEY0123456789abcdef'
    json.dump({'hasCompletedOnboarding': True, 'lastOnboardingVersion': '2.1.332', 'theme': 'dark',
               'customApiKeyResponses': {'approved': [key[-20:]], 'rejected': []},
               'projects': {WS: {'hasTrustDialogAccepted': True, 'hasCompletedProjectOnboarding': True}}},
              open(home + '/.claude.json', 'w'))
    if os.environ.get('HOOKS'):
        hk = lambda ev: [{'matcher': '', 'hooks': [{'type': 'command', 'command': f'{R}/hook.sh {R}/rec/{name}.hooks.jsonl {ev}'}]}]
        json.dump({'hooks': {ev: hk(ev) for ev in ['SessionStart', 'SessionEnd', 'UserPromptSubmit', 'Stop']}}, open(home + '/.claude/settings.json', 'w'))
    env = open(f'{R}/claude-env.sh').read().replace('HOME=/tmp/research/chome', f'HOME={home}')
    envf = f'{R}/env-{name}.sh'; open(envf, 'w').write(env)
    cmd = CLAUDE; ready = re.compile(r'^❯ ', re.M)
else:
    home = f'/root/cxresearch/home-{case}'
    subprocess.run(['rm', '-rf', WS]); os.makedirs(WS)
    subprocess.run([f'{R}/write-codex-home.sh', home, WS])
    if os.environ.get('HOOKS'):
        open(home + '/config.toml', 'a').write('\n')
        cfg = open(home + '/config.toml').read().replace('[features]\n', '[features]\ncodex_hooks = true\n')
        trust = f'{R}/codex-hooks-trust-{case}.toml'
        if os.path.exists(trust): cfg += '\n' + open(trust).read()
        open(home + '/config.toml', 'w').write(cfg)
        json.dump({'hooks': {ev: [{'matcher': '' , 'hooks': [{'type': 'command', 'command': f'{R}/hook.sh {R}/rec/{name}.hooks.jsonl {ev}'}]}] for ev in ['SessionStart', 'SessionEnd', 'UserPromptSubmit', 'Stop']}}, open(home + '/hooks.json', 'w'))
    env = open(f'{R}/codex-env.sh').read().replace('CODEX_HOME=/root/cxresearch/home', f'CODEX_HOME={home}')
    envf = f'{R}/env-{name}.sh'; open(envf, 'w').write(env)
    cmd = CODEX; ready = re.compile(r'›')

open(f'{R}/anthropic-requests.jsonl', 'a').close()
req_base = sum(1 for _ in open(f'{R}/anthropic-requests.jsonl'))
T0 = time.time()
subprocess.run(['rm', '-f', f'{R}/rec/{name}.hooks.jsonl']); subprocess.run([f'{R}/rec.sh', name, envf, WS, cmd])
log('spawn', epoch=T0)

stop = False
PID = [None]
def agent_pid():
    out = tmux('list-panes', '-t', name, '-F', '#{pane_pid}').strip()
    if not out: return None
    sp = out.split()[0]
    ch = subprocess.run(['pgrep', '-P', sp], capture_output=True, text=True).stdout.split()
    return int(ch[0]) if ch else None

def monitor():
    last = {}
    while not stop:
        st = {}
        if agent == 'claude':
            for f in glob.glob(home + '/.claude/sessions/*.json'):
                try:
                    o = json.load(open(f)); st['sess:' + os.path.basename(f)] = f"sessionId={o.get('sessionId')} status={o.get('status')}"
                except Exception: pass
            for f in glob.glob(home + '/.claude/projects/*/*.jsonl'):
                st['tx:' + os.path.basename(f)] = 'exists'
        else:
            for f in glob.glob(home + '/sessions/**/rollout-*.jsonl', recursive=True):
                st['tx:' + os.path.basename(f)] = 'exists'
        if os.environ.get('WATCHALL'):
            for f in glob.glob(home + '/**', recursive=True):
                if os.path.isfile(f) and 'logs_' not in f and '/.claude/projects/' not in f and '/sessions/' not in f:
                    try: st['file:' + f[len(home):]] = str(os.path.getsize(f))
                    except OSError: pass
            pid = PID[0]
            if pid:
                try:
                    for fd in os.listdir(f'/proc/{pid}/fd'):
                        try:
                            tgt = os.readlink(f'/proc/{pid}/fd/{fd}')
                        except OSError: continue
                        if '.jsonl' in tgt: st['fd:' + os.path.basename(tgt)] = 'open'
                except OSError: pass
        try:
            n = sum(1 for _ in open(f'{R}/anthropic-requests.jsonl')) - req_base
        except Exception: n = 0
        st['requests'] = str(n)
        for k in sorted(set(st) | set(last)):
            if st.get(k) != last.get(k):
                log('state', key=k, value=st.get(k))
        last = st
        time.sleep(0.005)
th = threading.Thread(target=monitor, daemon=True); th.start()

def wait_screen(rx, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        s = screen()
        if re.search(rx, s, re.M): return s
        time.sleep(0.05)
    raise SystemExit(f'timeout waiting for {rx!r}; screen:\n{screen()}')

screens = []
def snap(label):
    s = screen(); screens.append(f'===== {now()} {label}\n{s}'); log('snap', label=label)

def step(kind, arg=None):
    if kind == 'text': tmux('send-keys', '-t', name, '-l', arg)
    elif kind == 'keys': tmux('send-keys', '-t', name, *arg.split())
    elif kind == 'hex': tmux('send-keys', '-t', name, '-H', *[arg[i:i+2] for i in range(0, len(arg), 2)])
    log('send', how=kind, what=arg)

wait_screen(ready.pattern if agent == 'codex' else r'^❯', 40)
time.sleep(1.5 if agent == 'claude' else 0.7)
PID[0] = agent_pid(); log('ready', pid=PID[0])
snap('ready')

def msg(text):
    step('text', text); time.sleep(0.2); step('keys', 'Enter')
    wait_screen(re.escape('PONG:' + text), 20); time.sleep(0.8); snap('answered ' + text)

clear_word = 'new' if case.startswith('new') else 'clear'
steps = {
    'typed':   [('text', '/clear'), ('sleep', 0.6), ('snap', 'typed /clear'), ('keys', 'Enter')],
    'popup':   [('text', '/cl'), ('sleep', 0.8), ('snap', 'popup after /cl')] ,  # navigation added below
    'tab':     [('text', '/cl'), ('sleep', 0.8), ('snap', 'popup after /cl'), ('keys', 'Tab'), ('sleep', 0.6), ('snap', 'after Tab'), ('keys', 'Enter')],
    'up':      None,
    'new':     [('text', '/new'), ('sleep', 0.6), ('snap', 'typed /new'), ('keys', 'Enter')],
    'paste':   [('hex', '1b5b3230307e' + '/clear'.encode().hex() + '1b5b3230317e'), ('sleep', 0.6), ('snap', 'after bracketed paste'), ('keys', 'Enter')],
}
plan = json.loads(os.environ['PLAN']) if os.environ.get('PLAN') else steps[case]

msg('before')
if case == 'up':
    # an earlier /clear in the input history first, then a message, then Up (twice if needed) + Enter
    for k, a in [('text', '/clear'), ('sleep', 0.5), ('keys', 'Enter'), ('sleep', 1.5)]:
        (time.sleep(a) if k == 'sleep' else step(k, a))
    snap('after first /clear'); msg('middle')
    plan = [('keys', 'Up'), ('sleep', 0.6), ('snap', 'after Up')] + json.loads(os.environ.get('UPMORE', '[]')) + [('keys', 'Enter')]
for k, a in plan:
    if k == 'sleep': time.sleep(a)
    elif k == 'snap': snap(a)
    else: step(k, a)
time.sleep(2.0); snap('after clear action')
msg('after')
time.sleep(1.0)
quit_cmd = '/exit' if agent == 'claude' else '/quit'
step('text', quit_cmd); time.sleep(0.3); step('keys', 'Enter'); time.sleep(2.0)
stop = True; th.join()
tmux('kill-session', '-t', name)
with open(f'{R}/rec/{name}.timeline.jsonl', 'w') as f:
    for e in timeline: f.write(json.dumps(e) + '\n')
open(f'{R}/rec/{name}.screens.txt', 'w').write('\n'.join(screens))
print('done', name)
