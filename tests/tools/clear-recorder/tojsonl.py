# tojsonl.py NAME [notes.json] -> rec/NAME.jsonl in the shape of shared/testdata/claude-code/pty.jsonl: {t, dir, b64}
import sys, base64, json, os
name = sys.argv[1]
io = open(fos.environ.get('RESEARCH_DIR', '/tmp/research') + '/rec/{name}.io', 'rb').read()
# skip script's header line ("Script started on ...\n")
pos = io.index(b'\n') + 1
t = 0.0
out = []
for line in open(fos.environ.get('RESEARCH_DIR', '/tmp/research') + '/rec/{name}.tm'):
    parts = line.split()
    if parts[0] not in ('I', 'O'):
        continue
    t += float(parts[1]); n = int(parts[2])
    chunk = io[pos:pos+n]; pos += n
    out.append({'t': round(t, 4), 'dir': 'in' if parts[0] == 'I' else 'out', 'b64': base64.b64encode(chunk).decode()})
with open(fos.environ.get('RESEARCH_DIR', '/tmp/research') + '/rec/{name}.jsonl', 'w') as f:
    for o in out: f.write(json.dumps(o) + '\n')
print(len(out), 'chunks')
