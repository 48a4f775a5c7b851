// The editor configurations docs/acp.md shows (Zed, JetBrains, Neovim's CodeCompanion, Emacs'
// agent-shell, acpx): each entry's command line, read from the docs as written (the checkout's path
// put in for /path/to/agent-sidecar), is started with the user's defaults (HOME, no --data-dir) and
// answers as an ACP agent of the provider it names. The editors themselves are not on this machine;
// this proves the command lines they would run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, World } from './harness.ts';

const placeholder = '/path/to/agent-sidecar';

/** The docs' "Editors" section: each editor's code blocks, by the bold name that introduces them. */
function editorBlocks(): Map<string, { lang: string; code: string }[]> {
  const doc = readFileSync(join(repoRoot, 'docs', 'acp.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Editors'), doc.indexOf('## Tests'));
  const blocks = new Map<string, { lang: string; code: string }[]>();
  let editor = '';
  for (const part of section.split(/^```/m).map((p, i) => ({ p, code: i % 2 === 1 }))) {
    if (!part.code) {
      editor = [...part.p.matchAll(/^\*\*([^*]+)\*\*/gm)].at(-1)?.[1] ?? editor;
      continue;
    }
    const [lang, ...lines] = part.p.split('\n');
    blocks.set(editor, [...(blocks.get(editor) ?? []), { lang: lang.trim(), code: lines.join('\n') }]);
  }
  return blocks;
}

type Entry = { editor: string; provider: string; argv: string[] };

const real = (path: string) => path.replace(placeholder, repoRoot);
const providerOf = (argv: string[]) => argv[argv.indexOf('--provider') + 1];

/** Every entry of every editor's configuration, as the command line it starts. */
function entries(): Entry[] {
  const blocks = editorBlocks();
  const found: Entry[] = [];
  const block = (editor: string, lang: string) => {
    const key = [...blocks.keys()].find((k) => k.startsWith(editor));
    const b = key ? blocks.get(key)!.find((x) => x.lang === lang) : undefined;
    assert.ok(b, `docs/acp.md has no ${lang} block for ${editor}`);
    return b.code;
  };
  for (const editor of ['Zed', 'JetBrains']) {
    for (const server of Object.values(JSON.parse(block(editor, 'json')).agent_servers) as any[]) {
      const argv = [real(server.command), ...server.args];
      found.push({ editor, provider: providerOf(argv), argv });
    }
  }
  {
    const lua = block('Neovim', 'lua');
    const sidecar = real(lua.match(/local sidecar = "([^"]+)"/)![1]);
    const template = lua.match(/default = \{ sidecar, ([^}]+) \}/)![1].split(',').map((t) => t.trim());
    for (const [, provider] of lua.matchAll(/adapter\("(\w+)"/g)) {
      found.push({ editor: 'Neovim', provider, argv: [sidecar, ...template.map((t) => (t === 'provider' ? provider : JSON.parse(t)))] });
    }
  }
  {
    const elisp = block('Emacs', 'elisp');
    const command = real(elisp.match(/:command "([^"]+)"/)![1]);
    const params = elisp.match(/:command-params \(list ([^)]+)\)/)![1].match(/"[^"]*"|\S+/g)!;
    for (const [, provider] of elisp.matchAll(/\(my\/agent-sidecar-config "(\w+)"/g)) {
      found.push({ editor: 'Emacs', provider, argv: [command, ...params.map((t) => (t === 'provider' ? provider : JSON.parse(t)))] });
    }
  }
  for (const agent of Object.values(JSON.parse(block('acpx', 'json')).agents) as any[]) {
    const argv = [real(agent.argv[0]), ...agent.argv.slice(1)];
    found.push({ editor: 'acpx', provider: providerOf(argv), argv });
  }
  for (const [, command] of block('acpx', 'sh').matchAll(/--agent '([^']+)'/g)) {
    const argv = real(command).split(' ');
    found.push({ editor: 'acpx', provider: providerOf(argv), argv });
  }
  return found;
}

describe('the editor configurations in docs/acp.md', { timeout: 120_000 }, () => {
  let world: World;

  before(() => {
    world = new World('codex', {}, {});
  });

  after(async () => {
    await world?.dispose();
  });

  it('name every provider for every editor', () => {
    const byEditor = new Map<string, string[]>();
    for (const e of entries()) byEditor.set(e.editor, [...(byEditor.get(e.editor) ?? []), e.provider]);
    assert.deepEqual([...byEditor.keys()], ['Zed', 'JetBrains', 'Neovim', 'Emacs', 'acpx']);
    for (const [editor, providers] of byEditor) assert.deepEqual([...new Set(providers)].sort(), ['auggie', 'claude', 'codex'], editor);
  });

  it('start an ACP agent of the provider each entry names, with the user\'s default directories', async () => {
    // No --data-dir or --config-dir: the defaults under HOME, as an editor runs it.
    const env: NodeJS.ProcessEnv = { ...world.processEnv(), HOME: world.home };
    for (const name of ['AGENT_SIDECAR_DATA_DIR', 'AGENT_SIDECAR_CONFIG_DIR', 'AGENT_SIDECAR_PROVIDER', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME']) delete env[name];
    for (const entry of entries()) {
      const p = await world.acp(undefined, entry.argv, env);
      const init = await p.initialize();
      assert.equal(init.agentInfo?.title, `agent-sidecar (${entry.provider})`, `${entry.editor}: ${entry.argv.join(' ')}`);
      const list = await p.agent.request('session/list', { cwd: world.workspace });
      assert.deepEqual(list.sessions, [], `${entry.editor}: ${p.stderr}`);
      await p.close();
    }
    assert.ok(readFileSync(join(world.home, '.local', 'share', 'agent-sidecar', 'sidecar.db')).length > 0, 'the default data directory was not used');
  });
});
