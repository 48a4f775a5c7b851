// A fake OpenAI Responses API for the real Codex CLI (wire_api = "responses"), on 127.0.0.1 only,
// modelled on tests/AgentSidecar.Agents.Tests/Fakes/FakeCodexServer.cs: POST /v1/responses answers
// an SSE stream (response.created, output_text.delta…, output_item.done, response.completed with
// usage); title requests (text.format.type = json_schema) get {"title": …}.
//
// `responder(lastUser, step)` answers the text of the reply, `{ slow: text, ms }` for a reply streamed
// over that time, or a tool call for Codex to run:
// `{ functionCall: { name, arguments } }` or `{ customToolCall: { name, input } }`. `step` counts the
// tool outputs Codex has sent back since the user's message (0 for the first request of a turn).
import http from 'node:http';

export async function startFakeCodexServer(responder) {
  const turns = [];
  /** Per model request (not title requests): every user message in its input, oldest first. */
  const requests = [];
  let counter = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method === 'POST' && req.url.endsWith('/responses')) return answer(res, body);
      if (req.method === 'GET' && req.url.endsWith('/models')) return json(res, 200, { object: 'list', data: [], models: [] });
      json(res, 404, { error: { message: 'not found in fake', type: 'invalid_request_error' } });
    });
  });

  function answer(res, text) {
    let request = {};
    try { request = JSON.parse(text); } catch { /* answered as an empty turn */ }
    const isTitle = request?.text?.format?.type === 'json_schema';
    const users = (Array.isArray(request.input) ? request.input : [])
      .filter((i) => i?.type === 'message' && i.role === 'user')
      .map((i) => (Array.isArray(i.content) ? i.content.filter((p) => p.type === 'input_text').map((p) => p.text).join('') : String(i.content ?? '')))
      .filter((t) => !t.startsWith('<'));
    const lastUser = users.at(-1) ?? '';
    const input = Array.isArray(request.input) ? request.input : [];
    const lastUserAt = input.findLastIndex((i) => i?.type === 'message' && i.role === 'user');
    const step = input.slice(lastUserAt + 1).filter((i) => /_output$/.test(i?.type ?? '')).length;
    let reply = isTitle ? JSON.stringify({ title: 'E2E title' }) : responder(lastUser, step);
    let slowMs = 0;
    if (reply && typeof reply === 'object' && 'slow' in reply) ({ slow: reply, ms: slowMs } = reply);
    if (!isTitle && step === 0) (turns.push(lastUser), requests.push(users));
    const n = ++counter;
    const id = `resp_fake_${n}`;
    const itemId = `msg_fake_${n}`;
    const model = request.model ?? 'fake-model';
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const sse = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    sse('response.created', { response: { id, object: 'response', model, status: 'in_progress', output: [] } });
    if (typeof reply !== 'string') {
      const call = reply.functionCall
        ? { type: 'function_call', id: `fc_fake_${n}`, call_id: `call_fake_${n}`, name: reply.functionCall.name, arguments: JSON.stringify(reply.functionCall.arguments) }
        : { type: 'custom_tool_call', id: `ctc_fake_${n}`, call_id: `call_fake_${n}`, name: reply.customToolCall.name, input: reply.customToolCall.input };
      sse('response.output_item.added', { output_index: 0, item: { ...call, status: 'in_progress' } });
      sse('response.output_item.done', { output_index: 0, item: { ...call, status: 'completed' } });
      sse('response.completed', { response: { id, object: 'response', model, status: 'completed', output: [{ ...call, status: 'completed' }], usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 } } });
      res.end();
      return;
    }
    const message = { type: 'message', id: itemId, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply, annotations: [] }] };
    sse('response.output_item.added', { output_index: 0, item: { type: 'message', id: itemId, role: 'assistant', status: 'in_progress', content: [] } });
    const pieces = 4;
    const chunk = Math.ceil(reply.length / pieces) || 1;
    const deltas = [];
    for (let i = 0; i < reply.length; i += chunk) deltas.push(reply.slice(i, i + chunk));
    // A slow answer (the responder's `slowMs`): its pieces spread over that time.
    const gap = slowMs / Math.max(deltas.length, 1);
    const send = (i) => {
      if (res.destroyed) return;
      if (i < deltas.length) {
        sse('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta: deltas[i] });
        return gap > 0 ? setTimeout(() => send(i + 1), gap) : send(i + 1);
      }
      sse('response.output_item.done', { output_index: 0, item: message });
      sse('response.completed', { response: { id, object: 'response', model, status: 'completed', output: [message], usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 } } });
      res.end();
    };
    send(0);
  }

  function json(res, status, value) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { port, baseUrl: `http://127.0.0.1:${port}/v1`, turns, requests, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/**
 * A private CODEX_HOME pointing at the fake (Codex rewrites config.toml: write a fresh one per run).
 * The test suite's policy by default; `{ approvalPolicy: 'on-request', sandboxMode: 'workspace-write' }`
 * are users' defaults (Codex then asks before an escalated command).
 */
export function codexConfig(baseUrl, workspace, catalogPath, { approvalPolicy = 'never', sandboxMode = 'danger-full-access' } = {}) {
  const q = (s) => JSON.stringify(s);
  return `model = "fake-model"
model_provider = "fake"
approval_policy = ${q(approvalPolicy)}
sandbox_mode = ${q(sandboxMode)}
check_for_update_on_startup = false
model_catalog_json = ${q(catalogPath)}

[model_providers.fake]
name = "Fake"
base_url = ${q(baseUrl)}
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

[projects.${q(workspace)}]
trust_level = "trusted"
`;
}

export const modelCatalog = JSON.stringify({
  models: [{
    slug: 'fake-model', display_name: 'fake-model', description: 'Fake model served by the e2e test on 127.0.0.1.',
    default_reasoning_level: null, supported_reasoning_levels: [], shell_type: 'shell_command', visibility: 'list',
    supported_in_api: true, priority: 1, availability_nux: null, upgrade: null, base_instructions: 'You are a fake model used by tests.',
    supports_reasoning_summaries: false, default_reasoning_summary: 'none', support_verbosity: false, default_verbosity: null,
    apply_patch_tool_type: 'freeform', web_search_tool_type: 'text', truncation_policy: { mode: 'tokens', limit: 10000 },
    supports_parallel_tool_calls: false, supports_image_detail_original: false, context_window: 128000, auto_compact_token_limit: null,
    experimental_supported_tools: [], input_modalities: ['text'], prefer_websockets: false,
  }],
}, null, 2);

export const loopbackOnly = {
  HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9',
  ALL_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
};
