import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotificationType, NotificationType0, RequestType, RequestType0 } from 'vscode-jsonrpc';
import { ErrorCodes } from '../src/protocol/errors';
import { requests } from '../src/protocol/methods';
import { clientNotifications, serverNotifications } from '../src/protocol/notifications';

const contract = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'tests', 'testdata', 'protocol', 'methods.json'), 'utf8'));

const names = (list: readonly { method: string }[]) => list.map((x) => x.method).sort();

test('the typed requests are exactly the shared contract\'s requests, each once', () => {
  assert.deepEqual(names(requests), [...contract.requests].sort());
  assert.equal(new Set(names(requests)).size, requests.length);
});

test('every request in the contract has a typed pair: a RequestType carrying its own name', () => {
  for (const method of contract.requests as string[]) {
    const r = requests.find((x) => x.method === method);
    assert.ok(r, `${method} has a namespace in protocol/methods.ts`);
    assert.ok(r.type instanceof RequestType || r.type instanceof RequestType0, `${method}: its type is a vscode-jsonrpc RequestType`);
    assert.equal(r.type.method, method, `${method}: the RequestType sends the same name`);
  }
});

test('the typed notifications are exactly the shared contract\'s, each a NotificationType carrying its own name', () => {
  assert.deepEqual(names(clientNotifications), [...contract.clientNotifications].sort());
  assert.deepEqual(names(serverNotifications), [...contract.serverNotifications].sort());
  for (const n of [...clientNotifications, ...serverNotifications]) {
    assert.ok(n.type instanceof NotificationType || n.type instanceof NotificationType0, n.method);
    assert.equal(n.type.method, n.method);
  }
});

test('error codes match the shared protocol contract', () => {
  assert.deepEqual({ ...ErrorCodes }, contract.errorCodes);
});
