// A fake Augment backend (the tenant URL) for the real Auggie CLI on 127.0.0.1 (the shape of
// tests/AgentSidecar.Agents.Tests/Fakes/FakeAuggieServer.cs): get-models and list-remote-tools get
// fixed answers, chat-stream streams newline-delimited JSON (text nodes, then a final node with
// stop_reason; a tool_use node asks Auggie to run a tool), everything else gets {}.
import { json, listen, streamPieces, textOf, type Reply } from './modelServer.ts';

export type AuggieRequest = { users: string[]; lastUser: string; toolResult?: string };

const TextNode = 0;
const FinalNode = 2;
const ToolUseNode = 5;
const EndTurn = 1;
const ToolUseRequested = 3;

export async function startFakeAuggie(responder: (request: AuggieRequest) => Reply) {
  const requests: AuggieRequest[] = [];
  let counter = 0;
  const server = await listen(async (req, body, res) => {
    const endpoint = (req.url ?? '').replace(/^\//, '').split('?')[0];
    if (endpoint === 'get-models') {
      return json(res, 200, { default_model: 'fake-model', models: [{ name: 'fake-model', suggested_prefix_char_count: 1000, suggested_suffix_char_count: 1000 }], feature_flags: {}, user_tier: 'ENTERPRISE_TIER', user: { id: 'u1', email: 'fake@example.invalid' } });
    }
    if (endpoint === 'agents/list-remote-tools') return json(res, 200, { tools: [] });
    if (endpoint !== 'chat-stream') return json(res, 200, {});
    const nodesText = (nodes: any[]) => (nodes ?? []).filter((n) => n.type === TextNode).map((n) => n.text_node?.content ?? '').join('');
    const message = String(body.message ?? '');
    const title = body.silent === true || message.startsWith('Please provide a clear and concise title');
    const history = (body.chat_history ?? []).map((e: any) => e.request_message || nodesText(e.request_nodes)).filter((t: string) => t.length > 0);
    const current = nodesText(body.nodes) || message;
    const result = (body.nodes ?? []).find((n: any) => n.tool_result_node)?.tool_result_node;
    const users = current ? [...history, current] : history;
    const seen: AuggieRequest = { users, lastUser: users.at(-1) ?? '', toolResult: result ? String(result.content ?? '') : undefined };
    const reply: Reply = title ? 'Fake title' : responder(seen);
    if (!title) requests.push(seen);
    const n = ++counter;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (o: object) => res.write(`${JSON.stringify(o)}\n`);
    if (typeof reply === 'object' && 'tool' in reply) {
      line({ text: '', nodes: [{ id: 3, type: ToolUseNode, content: '', tool_use: { tool_use_id: `toolu_fake_${n}`, tool_name: reply.tool.name, input_json: JSON.stringify(reply.tool.input) } }] });
      line({ text: '', nodes: [{ id: 2, type: FinalNode, content: '' }], stop_reason: ToolUseRequested });
    } else {
      const { text, pieces, delayMs } = textOf(reply);
      if (!(await streamPieces(res, text, pieces, delayMs, (piece) => line({ text: piece, nodes: [{ id: 1, type: TextNode, content: piece }] })))) return;
      line({ text: '', nodes: [{ id: 2, type: FinalNode, content: text }], stop_reason: EndTurn });
    }
    res.end();
  });
  return { tenantUrl: `http://127.0.0.1:${server.port}/`, requests, close: server.close };
}
