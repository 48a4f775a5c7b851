#!/usr/bin/env python3
"""fake.py PORT PLAN.json LOG.jsonl : scripted fake model server on 127.0.0.1 for tool-call research.

Serves the OpenAI Responses API (POST /v1/responses, SSE; for Codex), the Anthropic Messages API
(POST /v1/messages, SSE; for Claude Code) and logs every request (with the reply it got) to LOG.
PLAN: {"codex": [REPLY...], "claude": [REPLY...]}; main-conversation requests take the next REPLY of
their API in order; when a list is used up the answer is "DONE:<last tool output>" after a tool
output, else "PONG:<last user text>". Title/side requests get a JSON-schema sample.
Any REPLY may have "delay": seconds to wait before answering (to see what the agent shows meanwhile).
REPLY (codex):  {"text": "..."} | {"calls": [{"type": "function_call", "name": N, "arguments": {...}}
                 | {"type": "custom_tool_call", "name": N, "input": "..."}], "text"?: "..."}
REPLY (auggie): {"text": "..."} | {"tool_use": [{"name": N, "input": {...}}], "text"?: "..."}   (POST <tenant>/chat-stream)
REPLY (claude): {"text": "..."} | {"tool_use": [{"name": N, "input": {...}}], "text"?: "...", "safeguard"?: VERDICT}
                VERDICT (auto mode's server-side check, sent in message_delta.delta.safeguard_results for every
                tool_use): {"type": "evaluated", "outcome": "flagged"|"not_flagged", "explanation"?: "..."} | {"type": "skipped"}
Importable: start(port, plan, log) -> server (server.served lists what was answered).
"""
import json, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler


def sample(schema, text):
    if isinstance(schema.get('enum'), list) and schema['enum']:
        return schema['enum'][0]
    t = schema.get('type')
    if isinstance(t, list):
        t = next((x for x in t if x != 'null'), 'string')
    if t is None:
        t = 'object' if 'properties' in schema else 'string'
    if t == 'object':
        return {k: sample(v if isinstance(v, dict) else {}, text) for k, v in (schema.get('properties') or {}).items()}
    return {'array': [], 'boolean': False, 'integer': 0, 'number': 0, 'null': None}.get(t, text)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.server.record(self, None, 'GET')
        self.json(200, {'object': 'list', 'data': [], 'models': []})

    def json(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def sse_start(self):
        self.send_response(200)
        self.send_header('content-type', 'text/event-stream')
        self.send_header('cache-control', 'no-cache')
        self.send_header('connection', 'close')
        self.end_headers()
        self.close_connection = True

    def ev(self, name, data):
        self.wfile.write(f'event: {name}\ndata: {json.dumps(data)}\n\n'.encode())
        self.wfile.flush()

    def do_POST(self):
        n = int(self.headers.get('content-length') or 0)
        raw = self.rfile.read(n) if n else b''
        try:
            body = json.loads(raw)
        except Exception:
            body = None
        path = self.path.split('?')[0]
        if path.endswith('/v1/responses'):
            return self.openai(body or {})
        if path.endswith('/v1/messages/count_tokens'):
            self.server.record(self, body, 'count_tokens')
            return self.json(200, {'input_tokens': 10})
        if path.endswith('/v1/messages'):
            return self.messages(body or {})
        ep = path.lstrip('/')
        if ep == 'get-models':
            self.server.record(self, body, 'auggie')
            return self.json(200, {'default_model': 'fake-model', 'models': [{'name': 'fake-model', 'suggested_prefix_char_count': 1000, 'suggested_suffix_char_count': 1000}],
                                   'feature_flags': {}, 'user_tier': 'ENTERPRISE_TIER', 'user': {'id': 'u1', 'email': 'fake@example.invalid'}})
        if ep == 'agents/list-remote-tools':
            self.server.record(self, body, 'auggie')
            return self.json(200, {'tools': []})
        if ep == 'chat-stream':
            return self.auggie(body or {})
        if not path.startswith('/v1/'):
            self.server.record(self, body, 'auggie-other')
            return self.json(200, {})
        self.server.record(self, body, 'unknown')
        self.json(404, {'error': {'message': 'not in fake', 'type': 'not_found_error'}})

    # ---- Augment chat-stream (Auggie): newline-delimited JSON
    def auggie(self, body):
        srv = self.server
        msg = body.get('message') or ''
        is_title = body.get('silent') is True or msg.startswith('Please provide a clear and concise title')
        nodes = body.get('nodes') or []
        results = [n['tool_result_node'] for n in nodes if n.get('type') == 1 and n.get('tool_result_node')]
        if is_title:
            reply = {'text': 'Fake title'}
        else:
            reply = srv.next('auggie')
            if reply is None:
                if results:
                    reply = {'text': 'DONE:' + str(results[-1].get('content', ''))[:300]}
                else:
                    txt = ''.join((n.get('text_node') or {}).get('content', '') for n in nodes if n.get('type') == 0)
                    reply = {'text': 'PONG:' + (txt or msg)}
        srv.record(self, body, 'title' if is_title else 'turn', reply)
        time.sleep(reply.get('delay', 0))
        self.send_response(200)
        self.send_header('content-type', 'application/x-ndjson')
        self.send_header('connection', 'close')
        self.end_headers()
        self.close_connection = True

        def line(o):
            self.wfile.write((json.dumps(o) + '\n').encode())
            self.wfile.flush()
        nid = 1
        if reply.get('text'):
            line({'text': reply['text'], 'nodes': [{'id': nid, 'type': 0, 'content': reply['text']}]})
            nid += 1
        tus = reply.get('tool_use') or []
        for k, tu in enumerate(tus):
            # Response node type 5 = TOOL_USE; input_json is a JSON string.
            line({'text': '', 'nodes': [{'id': nid, 'type': 5, 'content': '', 'tool_use': {'tool_use_id': f'toolu_fake_{srv.count()}_{k}', 'tool_name': tu['name'], 'input_json': json.dumps(tu['input'])}}]})
            nid += 1
        # Final node type 2 carries the full text; stop_reason 1 = END_TURN, 3 = TOOL_USE_REQUESTED.
        line({'text': '', 'nodes': [{'id': nid, 'type': 2, 'content': reply.get('text', '')}], 'stop_reason': 3 if tus else 1})

    # ---- OpenAI Responses (Codex)
    def openai(self, body):
        srv = self.server
        is_title = (body.get('text') or {}).get('format', {}).get('type') == 'json_schema'
        inp = body.get('input') or []
        if is_title:
            reply = {'text': json.dumps({'title': 'Fake title'})}
        else:
            reply = srv.next('codex')
            if reply is None:
                last = inp[-1] if inp else {}
                if last.get('type') in ('function_call_output', 'custom_tool_call_output'):
                    out = last.get('output')
                    reply = {'text': 'DONE:' + (out if isinstance(out, str) else json.dumps(out))[:300]}
                else:
                    users = [i for i in inp if i.get('type') == 'message' and i.get('role') == 'user']
                    txt = ''.join(p.get('text', '') for p in (users[-1].get('content') or [])) if users else ''
                    reply = {'text': 'PONG:' + txt}
        srv.record(self, body, 'title' if is_title else 'turn', reply)
        time.sleep(reply.get('delay', 0))
        rid = f'resp_{srv.count()}'
        self.sse_start()
        model = body.get('model', 'fake-model')
        self.ev('response.created', {'type': 'response.created', 'response': {'id': rid, 'object': 'response', 'model': model, 'status': 'in_progress', 'output': []}})
        output = []
        idx = 0
        if reply.get('text'):
            mid = f'msg_{rid}'
            msg = {'type': 'message', 'id': mid, 'role': 'assistant', 'status': 'completed', 'content': [{'type': 'output_text', 'text': reply['text'], 'annotations': []}]}
            self.ev('response.output_item.added', {'type': 'response.output_item.added', 'output_index': idx, 'item': {**msg, 'status': 'in_progress', 'content': []}})
            self.ev('response.output_text.delta', {'type': 'response.output_text.delta', 'item_id': mid, 'output_index': idx, 'content_index': 0, 'delta': reply['text']})
            self.ev('response.output_item.done', {'type': 'response.output_item.done', 'output_index': idx, 'item': msg})
            output.append(msg)
            idx += 1
        for k, c in enumerate(reply.get('calls') or []):
            cid = f'call_{rid}_{k}'
            if c['type'] == 'function_call':
                item = {'type': 'function_call', 'id': f'fc_{rid}_{k}', 'call_id': cid, 'name': c['name'], 'arguments': json.dumps(c['arguments']), 'status': 'completed'}
            else:
                item = {'type': 'custom_tool_call', 'id': f'ctc_{rid}_{k}', 'call_id': cid, 'name': c['name'], 'input': c['input'], 'status': 'completed'}
            self.ev('response.output_item.added', {'type': 'response.output_item.added', 'output_index': idx, 'item': {**item, 'status': 'in_progress'}})
            self.ev('response.output_item.done', {'type': 'response.output_item.done', 'output_index': idx, 'item': item})
            output.append(item)
            idx += 1
        self.ev('response.completed', {'type': 'response.completed', 'response': {'id': rid, 'object': 'response', 'model': model, 'status': 'completed', 'output': output,
               'usage': {'input_tokens': 10, 'input_tokens_details': {'cached_tokens': 0}, 'output_tokens': 5, 'output_tokens_details': {'reasoning_tokens': 0}, 'total_tokens': 15}}})

    # ---- Anthropic Messages (Claude Code)
    def messages(self, body):
        srv = self.server
        fmt = body.get('output_format') or (body.get('output_config') or {}).get('format')
        schema = fmt.get('schema', {}) if isinstance(fmt, dict) and fmt.get('type') == 'json_schema' else None
        side = schema is not None or not body.get('tools')
        msgs = body.get('messages') or []
        if side:
            reply = {'text': json.dumps(sample(schema, 'Fake title')) if schema is not None else 'Fake title'}
        else:
            reply = srv.next('claude')
            if reply is None:
                last = msgs[-1] if msgs else {}
                content = last.get('content') if isinstance(last.get('content'), list) else []
                results = [p for p in content if p.get('type') == 'tool_result']
                if results:
                    c = results[-1].get('content')
                    txt = c if isinstance(c, str) else ''.join(p.get('text', '') for p in (c or []) if isinstance(p, dict))
                    reply = {'text': 'DONE:' + txt[:300]}
                else:
                    txt = '|'.join(p.get('text', '') for p in content if p.get('type') == 'text' and not p.get('text', '').startswith('<')) if content else str(last.get('content', ''))
                    reply = {'text': 'PONG:' + txt.strip()}
        srv.record(self, body, 'side' if side else 'turn', reply)
        time.sleep(reply.get('delay', 0))
        mid = f'msg_fake_{srv.count()}'
        self.sse_start()
        self.ev('message_start', {'type': 'message_start', 'message': {'id': mid, 'type': 'message', 'role': 'assistant', 'model': body.get('model', 'fake'), 'content': [], 'stop_reason': None, 'stop_sequence': None,
                'usage': {'input_tokens': 10, 'output_tokens': 1, 'cache_creation_input_tokens': 0, 'cache_read_input_tokens': 0}}})
        i = 0
        if reply.get('text'):
            self.ev('content_block_start', {'type': 'content_block_start', 'index': i, 'content_block': {'type': 'text', 'text': ''}})
            self.ev('content_block_delta', {'type': 'content_block_delta', 'index': i, 'delta': {'type': 'text_delta', 'text': reply['text']}})
            self.ev('content_block_stop', {'type': 'content_block_stop', 'index': i})
            i += 1
        tus = reply.get('tool_use') or []
        ids = []
        for k, tu in enumerate(tus):
            tid = f'toolu_fake_{srv.count()}_{k}'
            ids.append(tid)
            self.ev('content_block_start', {'type': 'content_block_start', 'index': i, 'content_block': {'type': 'tool_use', 'id': tid, 'name': tu['name'], 'input': {}}})
            self.ev('content_block_delta', {'type': 'content_block_delta', 'index': i, 'delta': {'type': 'input_json_delta', 'partial_json': json.dumps(tu['input'])}})
            self.ev('content_block_stop', {'type': 'content_block_stop', 'index': i})
            i += 1
        delta = {'stop_reason': 'tool_use' if tus else 'end_turn', 'stop_sequence': None}
        if reply.get('safeguard') is not None and ids:
            # Auto mode's server-side check (beta dangerous-tool-use-2026-09-03): a verdict per tool_use id.
            delta['safeguard_results'] = [{'type': 'dangerous_tool_use', 'status': {'type': 'available', 'tool_uses': {i: reply['safeguard'] for i in ids}}}]
        self.ev('message_delta', {'type': 'message_delta', 'delta': delta, 'usage': {'output_tokens': 5}})
        self.ev('message_stop', {'type': 'message_stop'})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, plan, log):
        super().__init__(('127.0.0.1', port), Handler)
        self.plan = {k: list(v) for k, v in plan.items()}
        self.logf = log
        self.lock = threading.Lock()
        self.n = 0
        self.served = []

    def next(self, api):
        with self.lock:
            q = self.plan.get(api) or []
            return q.pop(0) if q else None

    def count(self):
        with self.lock:
            self.n += 1
            return self.n

    def record(self, h, body, kind, reply=None):
        e = {'t': time.time(), 'method': h.command, 'path': h.path, 'kind': kind, 'headers': dict(h.headers), 'body': body, 'reply': reply}
        with self.lock:
            self.served.append(e)
            if self.logf:
                with open(self.logf, 'a') as f:
                    f.write(json.dumps(e) + '\n')


def start(port, plan, log):
    s = Server(port, plan, log)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s


if __name__ == '__main__':
    port, planf, logf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    s = Server(port, json.load(open(planf)), logf)
    print('PORT=%d' % s.server_address[1], flush=True)
    s.serve_forever()
