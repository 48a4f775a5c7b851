#!/usr/bin/env python3
"""toolrec.py AGENT CASE [CASES.json] : record one tool-call case of a real agent against fake.py.

AGENT: codex | claude | auggie. The case (from CASES.json, default cases.json next to this file) holds
  "plan":  the fake model's scripted replies (see fake.py),
  "msg":   the user message typed after the agent is ready,
  "steps": [["wait", REGEX, timeout?] | ["snap", LABEL] | ["keys", "tmux key names"] | ["text", "literal"] |
            ["sleep", s] | ["file", PATH]  (logs whether PATH exists and its content)],
  "config": optional extra for the agent (codex: TOML appended, claude: settings.json object),
  "args": optional extra agent args, "env": extra environment, "files": {relative path: text} seeded in the workspace,
  "remove": paths deleted before the run, "approval"/"sandbox": codex policy (default on-request/workspace-write).
The agent runs in a 120x40 tmux pane through relay.py (raw PTY bytes with epoch timestamps); a monitor
logs every screen change (tmux capture-pane), every new transcript line, Claude's sessions/<pid>.json
status and every request to the fake, all on one clock. Writes $RESEARCH_DIR/out/<agent>-<case>/:
pty.jsonl, timeline.jsonl, screens.txt, requests.jsonl, transcripts/, and prints a short timeline.
"""
import sys, os, re, json, time, glob, shutil, subprocess, threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake

HERE = os.path.dirname(os.path.abspath(__file__))
R = os.environ.get('RESEARCH_DIR', '/root/toolrec')   # Codex refuses helper binaries with CODEX_HOME under /tmp
CACHE = os.path.expanduser('~/.cache/agent-sidecar/agents')
CODEX = f'{CACHE}/codex-0.169.0/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex'
CLAUDE_VERSION = '2.1.332'
CLAUDE = f'{CACHE}/claude-code-{CLAUDE_VERSION}/node_modules/@anthropic-ai/claude-code-linux-x64/claude'
AUGGIE = f'{CACHE}/auggie-0.36.0/node_modules/@augmentcode/auggie/augment.mjs'
CLAUDE_KEY = 'sk-ant-api03-fake-key-for-tests-only-0123456789abcdefABCDEF'
PROXY = {'HTTPS_PROXY': 'http://127.0.0.1:9', 'HTTP_PROXY': 'http://127.0.0.1:9', 'NO_PROXY': '127.0.0.1,localhost', 'TERM': 'xterm-256color'}

agent, case = sys.argv[1], sys.argv[2]
cases = json.load(open(sys.argv[3] if len(sys.argv) > 3 else f'{HERE}/cases.json'))
spec = cases[agent][case]
name = f'{agent}-{case}'
OUT = f'{R}/out/{name}'
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT + '/transcripts')
WS = f'{R}/ws/{name}'
HOME = f'{R}/home/{name}'
shutil.rmtree(WS, ignore_errors=True); shutil.rmtree(HOME, ignore_errors=True)
os.makedirs(WS); os.makedirs(HOME)
spec = json.loads(json.dumps(spec).replace('$WS', WS))   # "$WS" in a case stands for its workspace
for f, text in (spec.get('files') or {}).items():
    p = os.path.join(WS, f); os.makedirs(os.path.dirname(p), exist_ok=True); open(p, 'w').write(text)
for p in spec.get('remove') or []:
    subprocess.run(['rm', '-rf', p])

srv = fake.Server(0, spec.get('plan') or {}, f'{OUT}/requests.jsonl')
threading.Thread(target=srv.serve_forever, daemon=True).start()
PORT = srv.server_address[1]

env = dict(PROXY)
if agent == 'codex':
    env.update({'CODEX_HOME': HOME, 'FAKE_API_KEY': 'dummy'})
    model = {"slug": "fake-model", "display_name": "fake-model", "description": "Fake model.", "default_reasoning_level": None,
             "supported_reasoning_levels": [], "shell_type": "shell_command", "visibility": "list", "supported_in_api": True, "priority": 1,
             "availability_nux": None, "upgrade": None, "base_instructions": "You are a fake model used by tests.",
             "supports_reasoning_summaries": False, "default_reasoning_summary": "none", "support_verbosity": False, "default_verbosity": None,
             "apply_patch_tool_type": spec.get('apply_patch', 'freeform'), "web_search_tool_type": "text",
             "truncation_policy": {"mode": "tokens", "limit": 10000}, "supports_parallel_tool_calls": False,
             "supports_image_detail_original": False, "context_window": 128000, "auto_compact_token_limit": None,
             "experimental_supported_tools": [], "input_modalities": ["text"], "prefer_websockets": False}
    json.dump({'models': [model]}, open(f'{HOME}/catalog.json', 'w'))
    open(f'{HOME}/config.toml', 'w').write(f'''model = "fake-model"
model_provider = "fake"
approval_policy = "{spec.get('approval', 'on-request')}"
sandbox_mode = "{spec.get('sandbox', 'workspace-write')}"
check_for_update_on_startup = false
model_catalog_json = "{HOME}/catalog.json"
[model_providers.fake]
name = "Fake"
base_url = "http://127.0.0.1:{PORT}/v1"
env_key = "FAKE_API_KEY"
wire_api = "responses"
supports_websockets = false
request_max_retries = 0
stream_max_retries = 0
[analytics]
enabled = false
[features]
daemon_auto_start = false
plugins = false
remote_plugin = false
apps = false
shell_snapshot = false
unbounded_connection_retries = false
[tui]
disable_paste_burst = true
show_tooltips = false
animations = false
[notice]
hide_full_access_warning = true
[tools]
update_plan = {{ enabled = true }}
[projects."{WS}"]
trust_level = "trusted"
''' + (spec.get('config') or ''))
    cmd = [CODEX] + (spec.get('args') or [])
    ready = r'›'
    tx_glob = f'{HOME}/sessions/**/rollout-*.jsonl'
    quit_keys = [('text', '/quit'), ('sleep', 0.3), ('keys', 'Enter')]
elif agent == 'auggie':
    os.makedirs(f'{HOME}/.augment')
    json.dump({'onboardingVersion': '1.0.0'}, open(f'{HOME}/.augment/.auggie.json', 'w'))
    json.dump({'indexingDenyDirs': [WS], **(spec.get('config') or {})}, open(f'{HOME}/.augment/settings.json', 'w'))
    env.update({'HOME': HOME, 'AUGMENT_DISABLE_AUTO_UPDATE': '1', 'NODE_NO_WARNINGS': '1',
                'AUGMENT_SESSION_AUTH': json.dumps({'accessToken': 'fake-token', 'tenantURL': f'http://127.0.0.1:{PORT}/', 'scopes': ['read', 'write']})})
    cmd = ['node', AUGGIE] + (spec.get('args') or [])
    ready = r'^›|^> '
    tx_glob = f'{HOME}/.augment/sessions/*.json'
    quit_keys = [('keys', 'C-c'), ('sleep', 0.3), ('keys', 'C-c')]
else:
    env.update({'HOME': HOME, 'ANTHROPIC_BASE_URL': f'http://127.0.0.1:{PORT}', 'ANTHROPIC_API_KEY': CLAUDE_KEY,
                'DISABLE_TELEMETRY': '1', 'DISABLE_AUTOUPDATER': '1', 'DISABLE_ERROR_REPORTING': '1',
                'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC': '1', 'DISABLE_BUG_COMMAND': '1', 'DISABLE_COST_WARNINGS': '1'})
    os.makedirs(f'{HOME}/.claude')
    json.dump({'hasCompletedOnboarding': True, 'lastOnboardingVersion': CLAUDE_VERSION, 'theme': 'dark',
               'customApiKeyResponses': {'approved': [CLAUDE_KEY[-20:]], 'rejected': []},
               'projects': {WS: {'hasTrustDialogAccepted': True, 'hasCompletedProjectOnboarding': True, 'allowedTools': []}}},
              open(f'{HOME}/.claude.json', 'w'), indent=2)
    if spec.get('config'):
        json.dump(spec['config'], open(f'{HOME}/.claude/settings.json', 'w'))
    cmd = [CLAUDE] + (spec.get('args') or [])
    ready = r'^❯'
    tx_glob = f'{HOME}/.claude/projects/*/*.jsonl'
    quit_keys = [('keys', 'C-c'), ('sleep', 0.3), ('keys', 'C-c')]

env.update(spec.get('env') or {})
envf = f'{OUT}/env.sh'
open(envf, 'w').write(''.join(f"export {k}='{v}'\n" for k, v in env.items()))
T0 = time.time()
timeline = []
lock = threading.Lock()


def log(kind, **kw):
    with lock:
        timeline.append({'t': round(time.time() - T0, 4), 'kind': kind, **kw})


TMUX_CONF = f'{R}/tmux.conf'
open(TMUX_CONF, 'w').write('set -g focus-events on\nset -g status off\n')


def tmux(*a):
    # A private tmux server (-L toolrec) with focus events on (else Claude Code prints a tmux hint).
    return subprocess.run(['tmux', '-L', 'toolrec', '-f', TMUX_CONF, *a], capture_output=True, text=True).stdout


def screen():
    return tmux('capture-pane', '-p', '-t', name)


tmux('kill-session', '-t', name)
inner = ' '.join(subprocess.list2cmdline([x]) for x in ['python3', f'{HERE}/relay.py', f'{OUT}/pty.jsonl', *cmd])
tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', name, f'. {envf}; cd {WS}; exec {inner}')
log('spawn', epoch=T0, cmd=cmd)

stop = False
screens = []


def monitor():
    last_screen = None
    offsets = {}
    last_status = {}
    nreq = 0
    while not stop:
        s = screen()
        if s and s != last_screen:
            last_screen = s
            log('screen', n=len(screens))
            screens.append((round(time.time() - T0, 4), s))
        for f in glob.glob(tx_glob, recursive=True):
            try:
                data = open(f).read()
            except OSError:
                continue
            if agent == 'auggie':
                # a whole JSON document rewritten after each exchange
                if offsets.get(f) != data:
                    offsets[f] = data
                    log('tx', file=os.path.basename(f), summary=f'rewritten ({len(data)} chars)', line='')
                continue
            o = offsets.get(f, 0)
            if len(data) > o:
                new = data[o:]
                complete = new[:new.rfind('\n') + 1]
                for line in complete.splitlines():
                    try:
                        j = json.loads(line)
                    except Exception:
                        j = None
                    log('tx', file=os.path.basename(f), summary=summarize(j), line=line)
                offsets[f] = o + len(complete)
        if agent == 'claude':
            for f in glob.glob(f'{HOME}/.claude/sessions/*.json'):
                try:
                    st = json.load(open(f)).get('status')
                except Exception:
                    continue
                if last_status.get(f) != st:
                    last_status[f] = st
                    log('status', file=os.path.basename(f), status=st)
        with srv.lock:
            served = list(srv.served)
        for e in served[nreq:]:
            log('req', rkind=e['kind'], path=e['path'], summary=req_summary(e))
        nreq = len(served)
        time.sleep(0.03)


def summarize(j):
    if not isinstance(j, dict):
        return '?'
    if agent == 'codex':
        p = j.get('payload') or {}
        s = f"{j.get('type')}:{p.get('type')}"
        if p.get('type') in ('function_call', 'custom_tool_call'):
            s += f" {p.get('name')}"
        return s
    m = j.get('message') or {}
    c = m.get('content')
    parts = [p.get('type') + (':' + p.get('name') if p.get('type') == 'tool_use' else '') for p in c] if isinstance(c, list) else ['str']
    return f"{j.get('type')} {','.join(parts)}" + (f" sub={j.get('subtype')}" if j.get('subtype') else '')


def req_summary(e):
    b = e.get('body') or {}
    if agent == 'codex' or 'input' in b:
        inp = b.get('input') or []
        return f"input[-1]={(inp[-1].get('type') if inp else None)} reply={json.dumps(e.get('reply'))[:120]}"
    msgs = b.get('messages') or []
    last = msgs[-1] if msgs else {}
    c = last.get('content')
    t = [p.get('type') for p in c] if isinstance(c, list) else ['str']
    return f"last={last.get('role')}:{t} reply={json.dumps(e.get('reply'))[:120]}"


threading.Thread(target=monitor, daemon=True).start()


def wait_screen(rx, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        s = screen()
        if re.search(rx, s, re.M):
            return s
        time.sleep(0.05)
    log('timeout', rx=rx)
    print(f'TIMEOUT waiting for {rx!r}; screen:\n{screen()}')
    return None


def snap(label):
    s = screen()
    log('snap', label=label, n=len(screens))
    screens.append((round(time.time() - T0, 4), f'[snap: {label}]\n' + s))


def step(kind, arg=None):
    if kind == 'text':
        tmux('send-keys', '-t', name, '-l', arg)
    elif kind == 'keys':
        tmux('send-keys', '-t', name, *arg.split())
    log('send', how=kind, what=arg)


wait_screen(ready, 40)
time.sleep(1.5 if agent == 'claude' else 0.7)
snap('ready')
pid = None
try:
    pane_pid = tmux('list-panes', '-t', name, '-F', '#{pane_pid}').split()[0]
    pid = int(subprocess.run(['pgrep', '-P', pane_pid], capture_output=True, text=True).stdout.split()[0])
except Exception:
    pass
log('ready', relay_pid=pid)
if spec.get('msg'):
    step('text', spec['msg']); time.sleep(0.3); step('keys', 'Enter')
ok = True
for st in spec.get('steps', []):
    k = st[0]
    if k == 'wait':
        if wait_screen(st[1], st[2] if len(st) > 2 else 20) is None:
            ok = False
            break
    elif k == 'snap':
        snap(st[1])
    elif k == 'sleep':
        time.sleep(st[1])
    elif k == 'file':
        p = os.path.join(WS, st[1])
        log('file', path=p, exists=os.path.exists(p), content=open(p).read() if os.path.isfile(p) else None)
    else:
        step(k, st[1])
time.sleep(1.0)
snap('end')
for k, a in quit_keys:
    time.sleep(a) if k == 'sleep' else step(k, a)
time.sleep(2.0)
stop = True
time.sleep(0.1)
tmux('kill-session', '-t', name)
for f in glob.glob(tx_glob, recursive=True):
    shutil.copy(f, f'{OUT}/transcripts/')
if agent == 'claude':
    # the pid file is deleted on exit; statuses are in the timeline
    pass
with open(f'{OUT}/timeline.jsonl', 'w') as f:
    for e in timeline:
        f.write(json.dumps(e) + '\n')
with open(f'{OUT}/screens.txt', 'w') as f:
    for i, (t, s) in enumerate(screens):
        f.write(f'===== #{i} t={t}\n' + '\n'.join(l for l in s.rstrip('\n').split('\n')) + '\n')
for e in timeline:
    if e['kind'] == 'screen':
        continue
    d = {k: v for k, v in e.items() if k not in ('t', 'kind', 'line', 'epoch')}
    print(f"{e['t']:7.3f} {e['kind']:7} {json.dumps(d, ensure_ascii=False)[:200]}")
print('done', name, 'ok' if ok else 'FAILED', OUT)
