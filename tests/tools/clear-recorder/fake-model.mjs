// Minimal fake Anthropic Messages API for exploration. Logs every request to LOG (jsonl).
import http from 'node:http';
import fs from 'node:fs';
const port = +(process.argv[2] || 0);
const log = process.argv[3] || process.env.RESEARCH_DIR ? process.env.RESEARCH_DIR + '/anthropic-requests.jsonl' : '/tmp/research/anthropic-requests.jsonl';
let n = 0;
const srv = http.createServer((req, res) => {
  let body = '';
  req.on('data', c => body += c);
  req.on('end', () => {
    let json = null; try { json = JSON.parse(body); } catch {}
    fs.appendFileSync(log, JSON.stringify({ t: Date.now(), method: req.method, url: req.url, headers: req.headers, body: json ?? body }) + '\n');
    if (req.method === 'POST' && req.url.startsWith('/v1/messages') && !req.url.includes('count_tokens')) {
      const msgs = json?.messages ?? [];
      const last = [...msgs].reverse().find(m => m.role === 'user');
      let text = typeof last?.content === 'string' ? last.content : (last?.content ?? []).filter(p => p.type === 'text' && !p.text.startsWith('<') && !p.text.startsWith('[Request interrupted')).map(p => p.text).join('|');
      const fmt = json?.output_format || json?.output_config?.format;
      const sys = JSON.stringify(json?.system ?? '');
      let answer = 'PONG:' + text.trim();
      if (fmt) answer = JSON.stringify({ title: 'Fake title', isNewTopic: false });
      const id = 'msg_fake_' + (++n);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_' + n });
      const ev = (e, d) => res.write(`event: ${e}\ndata: ${JSON.stringify(d)}\n\n`);
      ev('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: json?.model ?? 'fake', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } } });
      ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      const finish = () => {
        ev('content_block_stop', { type: 'content_block_stop', index: 0 });
        ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
        ev('message_stop', { type: 'message_stop' });
        res.end();
      };
      if (text.startsWith('SLOW')) {
        let i = 0;
        const tick = setInterval(() => {
          if (res.destroyed) { clearInterval(tick); return; }
          ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'slow' + i + ' ' } });
          if (++i >= 40) { clearInterval(tick); finish(); }
        }, 150);
        return;
      }
      ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: answer } });
      finish();
      return;
    }
    if (req.method === 'POST' && req.url.startsWith('/v1/responses')) {
      const input = json?.input ?? [];
      const users = input.filter(i => i.type === 'message' && i.role === 'user').map(i => (i.content || []).map(p => p.text || '').join(''));
      const isTitle = json?.text?.format?.type === 'json_schema';
      const answer = isTitle ? JSON.stringify({ title: 'Fake title' }) : 'PONG:' + (users[users.length - 1] || '');
      const id = 'resp_' + (++n);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const ev = (e, d) => res.write(`event: ${e}\ndata: ${JSON.stringify(d)}\n\n`);
      const msg = { type: 'message', id: 'msg_' + n, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: answer, annotations: [] }] };
      ev('response.created', { type: 'response.created', response: { id, object: 'response', status: 'in_progress', output: [] } });
      ev('response.output_item.added', { type: 'response.output_item.added', output_index: 0, item: { ...msg, status: 'in_progress', content: [] } });
      ev('response.output_text.delta', { type: 'response.output_text.delta', item_id: 'msg_' + n, output_index: 0, content_index: 0, delta: answer });
      ev('response.output_item.done', { type: 'response.output_item.done', output_index: 0, item: msg });
      ev('response.completed', { type: 'response.completed', response: { id, object: 'response', status: 'completed', output: [msg], usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 } } });
      res.end();
      return;
    }
    if (req.url.includes('count_tokens')) { res.writeHead(200, {'content-type':'application/json'}); res.end('{"input_tokens":10}'); return; }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"type":"error","error":{"type":"not_found_error","message":"not in fake"}}');
  });
});
srv.listen(port, '127.0.0.1', () => console.log('PORT=' + srv.address().port));
